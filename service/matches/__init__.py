"""Match requests and the stored record of every run."""

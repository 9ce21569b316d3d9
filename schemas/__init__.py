"""Request and response models: the API contract clients and tests read."""

"""Export alliance candidates: groups of firms that together serve a market."""

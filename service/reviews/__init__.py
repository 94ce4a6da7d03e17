"""Review requests and decisions (four-eyes, delegated limits)."""

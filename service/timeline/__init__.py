"""One chronological view of everything that happened in a case."""

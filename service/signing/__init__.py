"""Electronic signatures (PAdES) on agreements, e-seals on decisions, and their validation."""

"""Users, roles, password hashing and JWT."""

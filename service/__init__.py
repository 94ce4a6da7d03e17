"""IOP Partnerskap: case management for idéburet offentligt partnerskap."""

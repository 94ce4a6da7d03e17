"""Diarium: the registration of a case's allmänna handlingar (diary entries with a löpnummer per case)."""

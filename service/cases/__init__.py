"""IOP cases (ärenden): proposals tracked through the stages."""

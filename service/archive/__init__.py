"""E-archive export: closed cases as E-ARK SIPs (FGS Paketstruktur), written to object storage for the registrar."""

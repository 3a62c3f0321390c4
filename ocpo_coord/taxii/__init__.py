"""TAXII 2.1 (OASIS) over the STIX exchange: each theatre of the reader's agency is a collection."""

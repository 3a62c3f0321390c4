"""STIX 2.1 exchange of intelligence with other systems."""

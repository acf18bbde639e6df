"""The territory observatory: exact pre-aggregates of issued credentials, privacy rules and open data."""

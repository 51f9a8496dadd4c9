"""AISTM7 keeper: the off-chain client, daemon and CLI of the aistm7 program."""

__version__ = "0.1.0"

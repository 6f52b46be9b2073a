"""sloguard: synthetic testing and load validation for the ATOM platform."""

__version__ = "0.1.0"

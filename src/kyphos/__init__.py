"""Kyphos: runs a hospital's kyphoplasty service from referral to the last follow-up."""

__version__ = "0.1.0"

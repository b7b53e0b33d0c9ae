"""A fake Stripe API server for the tests (test code, not product code); see server.py."""

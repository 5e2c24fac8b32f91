"""Payments provider access. Only `stripe_gateway` imports the Stripe SDK."""

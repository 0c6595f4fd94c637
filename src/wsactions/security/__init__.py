"""Security primitives: CSRF, redirects, passwords, tokens, emails, card data."""

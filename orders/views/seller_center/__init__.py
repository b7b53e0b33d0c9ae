"""The Seller Center pages that orders owns: the orders list and page, shipping, cancellations."""

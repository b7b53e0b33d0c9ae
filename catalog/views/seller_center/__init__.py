"""Seller Center pages that catalog owns: products, bulk upload, IP complaints against them."""

"""The shoppers' pages that orders owns: the cart, checkout and their orders."""

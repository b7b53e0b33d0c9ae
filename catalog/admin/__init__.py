"""Admin for the catalog: the listing review queue, brands and attributes (listing), and
intellectual-property complaints and bulk uploads (complaints)."""

from catalog.admin import complaints, listing  # noqa: F401  (registers the admin classes)

# Models arrive with the affiliates issue; see docs/architecture.md ("Module map").

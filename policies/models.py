# Models arrive with this app's issue; see ../shared/DESIGN.md section 3 for what it will hold.

# Models arrive with the seller onboarding issue; see ../shared/DESIGN.md section 3.

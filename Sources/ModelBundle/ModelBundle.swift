// ModelBundle module.

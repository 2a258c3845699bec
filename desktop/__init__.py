"""EnvGrid desktop: thin Qt views over the pure ``gis`` model (the only package that imports Qt)."""

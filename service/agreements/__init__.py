"""Agreement (IOP-avtal) terms and signatures."""

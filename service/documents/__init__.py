"""Documents: Swedish docxtpl templates, render contexts, rendering and PDF/A conversion."""

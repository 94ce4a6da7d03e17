"""A municipality's own .docx templates per document kind: checked, versioned in the object store, activated by an admin."""

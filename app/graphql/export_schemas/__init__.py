"""Export schemas: how raw messages become the columns of an export."""

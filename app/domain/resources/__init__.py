"""Backing up and migrating the catalog and a workspace's configuration: resources exported
as CSV or JSON files, and such files imported with upsert semantics, so that a gateway can be
rebuilt or cloned from files. Files name things by what identifies them on every gateway
(exchange codes, symbols, datastream ids, schema names), never by internal ids."""

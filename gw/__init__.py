"""The group analytics warehouse application: configuration, pipeline steps and the ``gw`` command."""

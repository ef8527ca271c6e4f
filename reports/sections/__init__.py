"""The sections of the packs: each loads its data through the pack context, states its findings, renders."""

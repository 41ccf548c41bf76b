-- A campaign's optional story (a few paragraphs of plain text shown on the pledge page and
-- the public page) and picture (the key of its normalised copy in DATA_DIR/pictures, named
-- by content hash). NULL for every existing campaign: neither was asked before.

ALTER TABLE campaigns ADD COLUMN story TEXT;
ALTER TABLE campaigns ADD COLUMN picture TEXT;

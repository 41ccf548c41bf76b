-- A campaign's figures (supporters, accounts and reach by network) were counted from its
-- pledges on every pledge page, every pledge and every /status: a read of every pledge of
-- the campaign. They are now kept as tallies that triggers move in the same transaction
-- as the pledge or account row that changes them, so they are still derived from the
-- rows, never drift, and cost one row to read.
--
-- campaign_people: one row per person with a standing (not withdrawn) pledge, counting
-- them; campaign_tallies.supporters counts those rows. campaign_network_tallies: standing
-- pledges and the sum of their accounts' followers, by network. Every trigger moves a
-- tally by the exact difference its own row makes (no count of other rows), so the
-- order in which a statement's row triggers fire does not matter. Posts and failures are
-- not tallied (the blast would move a tally row per post): they are counted through the
-- partial index pledges_outcome, which holds only posted and failed pledges.

-- no writer of the older code may slip a pledge between the counts below and the triggers
LOCK TABLE pledges, accounts IN SHARE ROW EXCLUSIVE MODE;

CREATE TABLE campaign_tallies (
    campaign_id BIGINT PRIMARY KEY REFERENCES campaigns (id) ON DELETE CASCADE,
    supporters BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE campaign_network_tallies (
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    network TEXT NOT NULL,
    accounts BIGINT NOT NULL DEFAULT 0,
    reach BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign_id, network)
);

CREATE TABLE campaign_people (
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    supporter_platform TEXT NOT NULL,
    supporter_id TEXT NOT NULL,
    standing INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, supporter_platform, supporter_id)
);

CREATE INDEX pledges_outcome ON pledges (campaign_id, status)
WHERE status IN ('posted', 'failed');

-- what the rows say now, before any trigger exists
INSERT INTO campaign_network_tallies (campaign_id, network, accounts, reach)
SELECT p.campaign_id, p.network, COUNT(*), COALESCE(SUM(a.followers), 0)
FROM pledges AS p JOIN accounts AS a ON a.id = p.account_id
WHERE p.status <> 'withdrawn'
GROUP BY p.campaign_id, p.network;

INSERT INTO campaign_people (campaign_id, supporter_platform, supporter_id, standing)
SELECT campaign_id, supporter_platform, supporter_id, COUNT(*)
FROM pledges WHERE status <> 'withdrawn'
GROUP BY campaign_id, supporter_platform, supporter_id;

INSERT INTO campaign_tallies (campaign_id, supporters)
SELECT c.id, (SELECT COUNT(*) FROM campaign_people AS p WHERE p.campaign_id = c.id)
FROM campaigns AS c;

-- a person starts or stops standing
CREATE FUNCTION chorus_people_tally() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO campaign_tallies AS t (campaign_id, supporters)
        VALUES (NEW.campaign_id, 1)
        ON CONFLICT (campaign_id) DO UPDATE SET supporters = t.supporters + 1;
    ELSE
        UPDATE campaign_tallies SET supporters = supporters - 1
        WHERE campaign_id = OLD.campaign_id;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER campaign_people_in AFTER INSERT ON campaign_people
FOR EACH ROW EXECUTE FUNCTION chorus_people_tally();
CREATE TRIGGER campaign_people_out AFTER DELETE ON campaign_people
FOR EACH ROW EXECUTE FUNCTION chorus_people_tally();

-- one standing pledge's part: in (+1) or out (-1). FOR SHARE: a concurrent change of the
-- account's followers waits for this transaction, then sees its pledge (or this one reads
-- the changed count), so the reach cannot miss a change in between.
CREATE FUNCTION chorus_pledge_part(p pledges, sign INTEGER) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    reached BIGINT;
BEGIN
    SELECT followers INTO reached FROM accounts WHERE id = p.account_id FOR SHARE;
    reached := COALESCE(reached, 0);
    IF sign > 0 THEN
        INSERT INTO campaign_network_tallies AS t (campaign_id, network, accounts, reach)
        VALUES (p.campaign_id, p.network, 1, reached)
        ON CONFLICT (campaign_id, network) DO UPDATE
        SET accounts = t.accounts + 1, reach = t.reach + excluded.reach;
        INSERT INTO campaign_people AS c (campaign_id, supporter_platform, supporter_id, standing)
        VALUES (p.campaign_id, p.supporter_platform, p.supporter_id, 1)
        ON CONFLICT (campaign_id, supporter_platform, supporter_id) DO UPDATE
        SET standing = c.standing + 1;
    ELSE
        UPDATE campaign_network_tallies
        SET accounts = accounts - 1, reach = reach - reached
        WHERE campaign_id = p.campaign_id AND network = p.network;
        UPDATE campaign_people SET standing = standing - 1
        WHERE campaign_id = p.campaign_id AND supporter_platform = p.supporter_platform
        AND supporter_id = p.supporter_id;
        DELETE FROM campaign_people
        WHERE campaign_id = p.campaign_id AND supporter_platform = p.supporter_platform
        AND supporter_id = p.supporter_id AND standing <= 0;
    END IF;
END;
$$;

CREATE FUNCTION chorus_pledges_tally() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        IF OLD.status <> 'withdrawn' THEN
            PERFORM chorus_pledge_part(OLD, -1);
        END IF;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        IF NEW.status <> 'withdrawn' THEN
            PERFORM chorus_pledge_part(NEW, 1);
        END IF;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER pledges_tally_insert AFTER INSERT ON pledges
FOR EACH ROW WHEN (NEW.status <> 'withdrawn') EXECUTE FUNCTION chorus_pledges_tally();
CREATE TRIGGER pledges_tally_delete AFTER DELETE ON pledges
FOR EACH ROW WHEN (OLD.status <> 'withdrawn') EXECUTE FUNCTION chorus_pledges_tally();
-- withdrawn, standing again, or counting for something else: the old part out, the new
-- in (a post or a failure changes nothing here, so the blast fires nothing)
CREATE TRIGGER pledges_tally_update AFTER UPDATE ON pledges
FOR EACH ROW WHEN (
    (OLD.status <> 'withdrawn' OR NEW.status <> 'withdrawn') AND (
        (OLD.status = 'withdrawn') <> (NEW.status = 'withdrawn')
        OR OLD.campaign_id <> NEW.campaign_id OR OLD.network <> NEW.network
        OR OLD.account_id <> NEW.account_id
        OR OLD.supporter_platform <> NEW.supporter_platform
        OR OLD.supporter_id <> NEW.supporter_id
    )
) EXECUTE FUNCTION chorus_pledges_tally();

-- an account's follower count moves the reach of every campaign it stands in
CREATE FUNCTION chorus_followers_tally() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE campaign_network_tallies AS t SET reach = t.reach + NEW.followers - OLD.followers
    FROM pledges AS p
    WHERE p.account_id = NEW.id AND p.status <> 'withdrawn'
    AND t.campaign_id = p.campaign_id AND t.network = p.network;
    RETURN NULL;
END;
$$;

CREATE TRIGGER accounts_tally_followers AFTER UPDATE OF followers ON accounts
FOR EACH ROW WHEN (OLD.followers <> NEW.followers) EXECUTE FUNCTION chorus_followers_tally();

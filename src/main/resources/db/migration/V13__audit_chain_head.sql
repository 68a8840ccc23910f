-- The newest link of every audit chain, one row per chain (ADR 0019). An append takes the row lock with one
-- upsert (which also hands back the previous hash and the new sequence number) and moves the head in the statement
-- that inserts the event, in the transaction of the change it records. Verification compares the chain's end with
-- this row, so dropping the newest events is detected even before the next head signature.
create table audit_chain_head (
    chain  varchar(40)  primary key,
    seq    bigint       not null,
    hash   bytea        not null
);

insert into audit_chain_head (chain, seq, hash)
select distinct on (chain) chain, seq, hash from audit_event order by chain, seq desc;

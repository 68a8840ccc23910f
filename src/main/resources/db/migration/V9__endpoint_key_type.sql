-- The key pair type of a service-held ESData end-point (EC P-256 by default; P-384, P-521 and RSA for the
-- ES384/ES512/RS* signatures and RSA-OAEP-256 recipients of the seed's Table X.2.2-1).
alter table endpoint add column key_type varchar(16) not null default 'EC_P256'
    check (key_type in ('EC_P256', 'EC_P384', 'EC_P521', 'RSA_2048', 'RSA_3072'));

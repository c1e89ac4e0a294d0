-- The ledger's schema at revision 0014, as its migrations build it (scripts/write_head_schema.py wrote this file; do not edit it).

CREATE TABLE alembic_version (
    version_num character varying(32) NOT NULL
);

CREATE TABLE answer_files (
    id integer NOT NULL,
    sha256 character varying(64) NOT NULL,
    name text DEFAULT ''::text NOT NULL,
    run_no integer NOT NULL,
    operator character varying(128) NOT NULL,
    rows integer DEFAULT 0 NOT NULL
);

CREATE SEQUENCE answer_files_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE answer_files_id_seq OWNED BY answer_files.id;

CREATE TABLE answers (
    id integer NOT NULL,
    eid character varying(32) NOT NULL,
    operator character varying(128) NOT NULL,
    run_no integer NOT NULL,
    answer character varying(16) NOT NULL,
    operator_status text DEFAULT ''::text NOT NULL,
    operator_reason text DEFAULT ''::text NOT NULL,
    iccid text DEFAULT ''::text NOT NULL,
    smdp_address text DEFAULT ''::text NOT NULL,
    order_id text DEFAULT ''::text NOT NULL,
    answered_at text DEFAULT ''::text NOT NULL,
    file_sha256 character varying(64) NOT NULL,
    file_name text DEFAULT ''::text NOT NULL,
    sheet text DEFAULT ''::text NOT NULL,
    "row" integer DEFAULT 0 NOT NULL
);

CREATE SEQUENCE answers_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE answers_id_seq OWNED BY answers.id;

CREATE TABLE claims (
    eid character varying(32) NOT NULL,
    operator character varying(128) NOT NULL,
    run_no integer NOT NULL,
    serial_number text DEFAULT ''::text NOT NULL,
    imei text DEFAULT ''::text NOT NULL,
    manifest integer DEFAULT 0 NOT NULL,
    "row" integer DEFAULT 0 NOT NULL,
    description integer DEFAULT 0 NOT NULL,
    intune_state text DEFAULT ''::text NOT NULL,
    entra_object_id text DEFAULT ''::text NOT NULL,
    state_run integer DEFAULT 0 NOT NULL
);

CREATE TABLE descriptions (
    id integer NOT NULL,
    manufacturer text DEFAULT ''::text NOT NULL,
    model text DEFAULT ''::text NOT NULL,
    sku text DEFAULT ''::text NOT NULL,
    po_number text DEFAULT ''::text NOT NULL,
    order_number text DEFAULT ''::text NOT NULL,
    asn text DEFAULT ''::text NOT NULL,
    ship_date text DEFAULT ''::text NOT NULL,
    customer text DEFAULT ''::text NOT NULL
);

CREATE SEQUENCE descriptions_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE descriptions_id_seq OWNED BY descriptions.id;

CREATE TABLE device_states (
    id integer NOT NULL,
    eid character varying(32) NOT NULL,
    run_id character varying(64) NOT NULL,
    intune_state text DEFAULT ''::text NOT NULL,
    entra_object_id text DEFAULT ''::text NOT NULL,
    recorded_at timestamp with time zone NOT NULL
);

CREATE SEQUENCE device_states_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE device_states_id_seq OWNED BY device_states.id;

CREATE TABLE group_changes (
    id integer NOT NULL,
    run_id character varying(64) NOT NULL,
    group_id character varying(64) NOT NULL,
    entra_object_id character varying(64) NOT NULL,
    eid text DEFAULT ''::text NOT NULL,
    action character varying(16) NOT NULL,
    outcome character varying(32) NOT NULL,
    http_status integer DEFAULT 0 NOT NULL,
    answer text DEFAULT ''::text NOT NULL,
    changed_at timestamp with time zone NOT NULL
);

CREATE SEQUENCE group_changes_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE group_changes_id_seq OWNED BY group_changes.id;

CREATE TABLE intune_setups (
    operator character varying(128) NOT NULL,
    server text DEFAULT ''::text NOT NULL,
    group_id text DEFAULT ''::text NOT NULL,
    group_name text DEFAULT ''::text NOT NULL,
    policy_id text DEFAULT ''::text NOT NULL,
    policy_name text DEFAULT ''::text NOT NULL,
    applied_at timestamp with time zone NOT NULL
);

CREATE TABLE manifests (
    id integer NOT NULL,
    sha256 character varying(64) NOT NULL,
    name text DEFAULT ''::text NOT NULL,
    run_id character varying(64) NOT NULL,
    received_at timestamp with time zone NOT NULL,
    rows integer DEFAULT 0 NOT NULL,
    outcome character varying(16) DEFAULT 'processed'::character varying NOT NULL,
    error text DEFAULT ''::text NOT NULL
);

CREATE SEQUENCE manifests_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE manifests_id_seq OWNED BY manifests.id;

CREATE TABLE memberships (
    id integer NOT NULL,
    group_id character varying(64) NOT NULL,
    eid character varying(32) NOT NULL,
    entra_object_id character varying(64) NOT NULL,
    run_id character varying(64) NOT NULL,
    added_at timestamp with time zone NOT NULL
);

CREATE SEQUENCE memberships_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE memberships_id_seq OWNED BY memberships.id;

CREATE TABLE profile_statuses (
    eid character varying(32) NOT NULL,
    operator character varying(128) NOT NULL,
    intune_device_id text DEFAULT ''::text NOT NULL,
    policy_id text DEFAULT ''::text NOT NULL,
    status text DEFAULT ''::text NOT NULL,
    policy_status text DEFAULT ''::text NOT NULL,
    reported_at text DEFAULT ''::text NOT NULL,
    device_eid text DEFAULT ''::text NOT NULL,
    eid_check text DEFAULT ''::text NOT NULL,
    read_at timestamp with time zone NOT NULL
);

CREATE TABLE released (
    id integer NOT NULL,
    eid character varying(32) NOT NULL,
    operator character varying(128) NOT NULL,
    run_no integer NOT NULL,
    serial_number text DEFAULT ''::text NOT NULL,
    imei text DEFAULT ''::text NOT NULL,
    manifest integer DEFAULT 0 NOT NULL,
    "row" integer DEFAULT 0 NOT NULL,
    description integer DEFAULT 0 NOT NULL,
    intune_state text DEFAULT ''::text NOT NULL,
    entra_object_id text DEFAULT ''::text NOT NULL,
    state_run integer DEFAULT 0 NOT NULL,
    released_at timestamp with time zone NOT NULL,
    released_by integer DEFAULT 0 NOT NULL
);

CREATE SEQUENCE released_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE released_id_seq OWNED BY released.id;

CREATE TABLE resends (
    id integer NOT NULL,
    eid character varying(32) NOT NULL,
    operator character varying(128) NOT NULL,
    run_no integer NOT NULL,
    reason text DEFAULT ''::text NOT NULL,
    requested_by text DEFAULT ''::text NOT NULL
);

CREATE SEQUENCE resends_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE resends_id_seq OWNED BY resends.id;

CREATE TABLE retirements (
    id integer NOT NULL,
    eid character varying(32) NOT NULL,
    serial_number text DEFAULT ''::text NOT NULL,
    entra_object_id text DEFAULT ''::text NOT NULL,
    action character varying(16) NOT NULL,
    run_no integer NOT NULL,
    reason text DEFAULT ''::text NOT NULL,
    requested_by text DEFAULT ''::text NOT NULL
);

CREATE SEQUENCE retirements_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE retirements_id_seq OWNED BY retirements.id;

CREATE TABLE row_outcomes (
    id integer NOT NULL,
    run_no integer NOT NULL,
    first_run_no integer NOT NULL,
    manifest integer DEFAULT 0 NOT NULL,
    file integer NOT NULL,
    sheet text DEFAULT ''::text NOT NULL,
    "row" integer DEFAULT 0 NOT NULL,
    eid text DEFAULT ''::text NOT NULL,
    eid_raw text DEFAULT ''::text NOT NULL,
    serial_number text DEFAULT ''::text NOT NULL,
    imei text DEFAULT ''::text NOT NULL,
    description integer DEFAULT 0 NOT NULL,
    operator text DEFAULT ''::text NOT NULL,
    status character varying(16) NOT NULL,
    reason text DEFAULT ''::text NOT NULL,
    detail text DEFAULT ''::text NOT NULL
);

CREATE SEQUENCE row_outcomes_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE row_outcomes_id_seq OWNED BY row_outcomes.id;

CREATE TABLE runs (
    run_id character varying(64) NOT NULL,
    run_dir text DEFAULT ''::text NOT NULL,
    kind character varying(16) DEFAULT 'ingest'::character varying NOT NULL,
    host text DEFAULT ''::text NOT NULL,
    pid integer DEFAULT 0 NOT NULL,
    proc_start text DEFAULT ''::text NOT NULL,
    started_at timestamp with time zone NOT NULL,
    finished_at timestamp with time zone,
    state character varying(16) NOT NULL,
    error text DEFAULT ''::text NOT NULL,
    counts text DEFAULT ''::text NOT NULL,
    files text DEFAULT ''::text NOT NULL,
    run_no integer DEFAULT 0 NOT NULL,
    destination text DEFAULT ''::text NOT NULL,
    delivery text DEFAULT ''::text NOT NULL
);

CREATE TABLE serials (
    serial_number text NOT NULL,
    eid character varying(32) NOT NULL
);

CREATE TABLE voids (
    id integer NOT NULL,
    voided_run_no integer NOT NULL,
    operator character varying(128) NOT NULL,
    released_by integer NOT NULL,
    run_no integer NOT NULL,
    eids integer DEFAULT 0 NOT NULL,
    reason text DEFAULT ''::text NOT NULL,
    requested_by text DEFAULT ''::text NOT NULL
);

CREATE SEQUENCE voids_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE voids_id_seq OWNED BY voids.id;

ALTER TABLE ONLY answer_files ALTER COLUMN id SET DEFAULT nextval('answer_files_id_seq'::regclass);

ALTER TABLE ONLY answers ALTER COLUMN id SET DEFAULT nextval('answers_id_seq'::regclass);

ALTER TABLE ONLY descriptions ALTER COLUMN id SET DEFAULT nextval('descriptions_id_seq'::regclass);

ALTER TABLE ONLY device_states ALTER COLUMN id SET DEFAULT nextval('device_states_id_seq'::regclass);

ALTER TABLE ONLY group_changes ALTER COLUMN id SET DEFAULT nextval('group_changes_id_seq'::regclass);

ALTER TABLE ONLY manifests ALTER COLUMN id SET DEFAULT nextval('manifests_id_seq'::regclass);

ALTER TABLE ONLY memberships ALTER COLUMN id SET DEFAULT nextval('memberships_id_seq'::regclass);

ALTER TABLE ONLY released ALTER COLUMN id SET DEFAULT nextval('released_id_seq'::regclass);

ALTER TABLE ONLY resends ALTER COLUMN id SET DEFAULT nextval('resends_id_seq'::regclass);

ALTER TABLE ONLY retirements ALTER COLUMN id SET DEFAULT nextval('retirements_id_seq'::regclass);

ALTER TABLE ONLY row_outcomes ALTER COLUMN id SET DEFAULT nextval('row_outcomes_id_seq'::regclass);

ALTER TABLE ONLY voids ALTER COLUMN id SET DEFAULT nextval('voids_id_seq'::regclass);

ALTER TABLE ONLY alembic_version
    ADD CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num);

ALTER TABLE ONLY answer_files
    ADD CONSTRAINT answer_files_pkey PRIMARY KEY (id);

ALTER TABLE ONLY answers
    ADD CONSTRAINT answers_pkey PRIMARY KEY (id);

ALTER TABLE ONLY claims
    ADD CONSTRAINT claims_pkey PRIMARY KEY (eid, operator);

ALTER TABLE ONLY descriptions
    ADD CONSTRAINT descriptions_pkey PRIMARY KEY (id);

ALTER TABLE ONLY device_states
    ADD CONSTRAINT device_states_pkey PRIMARY KEY (id);

ALTER TABLE ONLY group_changes
    ADD CONSTRAINT group_changes_pkey PRIMARY KEY (id);

ALTER TABLE ONLY intune_setups
    ADD CONSTRAINT intune_setups_pkey PRIMARY KEY (operator);

ALTER TABLE ONLY manifests
    ADD CONSTRAINT manifests_pkey PRIMARY KEY (id);

ALTER TABLE ONLY memberships
    ADD CONSTRAINT memberships_pkey PRIMARY KEY (id);

ALTER TABLE ONLY profile_statuses
    ADD CONSTRAINT profile_statuses_pkey PRIMARY KEY (eid, operator);

ALTER TABLE ONLY released
    ADD CONSTRAINT released_pkey PRIMARY KEY (id);

ALTER TABLE ONLY resends
    ADD CONSTRAINT resends_pkey PRIMARY KEY (id);

ALTER TABLE ONLY retirements
    ADD CONSTRAINT retirements_pkey PRIMARY KEY (id);

ALTER TABLE ONLY row_outcomes
    ADD CONSTRAINT row_outcomes_pkey PRIMARY KEY (id);

ALTER TABLE ONLY runs
    ADD CONSTRAINT runs_pkey PRIMARY KEY (run_id);

ALTER TABLE ONLY serials
    ADD CONSTRAINT serials_pkey PRIMARY KEY (serial_number, eid);

ALTER TABLE ONLY voids
    ADD CONSTRAINT voids_pkey PRIMARY KEY (id);

CREATE INDEX ix_answer_files_run_no ON answer_files USING btree (run_no);

CREATE INDEX ix_answer_files_sha256 ON answer_files USING btree (sha256);

CREATE INDEX ix_answers_eid_operator ON answers USING btree (eid, operator);

CREATE INDEX ix_answers_run_no ON answers USING btree (run_no);

CREATE INDEX ix_device_states_eid ON device_states USING btree (eid);

CREATE INDEX ix_group_changes_group_object ON group_changes USING btree (group_id, entra_object_id);

CREATE INDEX ix_group_changes_run ON group_changes USING btree (run_id);

CREATE INDEX ix_manifests_sha256 ON manifests USING btree (sha256);

CREATE INDEX ix_memberships_eid ON memberships USING btree (eid);

CREATE INDEX ix_released_eid ON released USING btree (eid);

CREATE INDEX ix_released_run_no ON released USING btree (run_no);

CREATE INDEX ix_resends_eid ON resends USING btree (eid);

CREATE INDEX ix_resends_run_no ON resends USING btree (run_no);

CREATE INDEX ix_retirements_eid ON retirements USING btree (eid);

CREATE INDEX ix_row_outcomes_eid ON row_outcomes USING btree (eid);

CREATE INDEX ix_row_outcomes_eid_raw ON row_outcomes USING btree (eid_raw);

CREATE INDEX ix_row_outcomes_imei ON row_outcomes USING btree (imei);

CREATE INDEX ix_row_outcomes_serial_number ON row_outcomes USING btree (serial_number);

CREATE INDEX ix_runs_state ON runs USING btree (state);

CREATE UNIQUE INDEX uq_descriptions ON descriptions USING btree (manufacturer, model, sku, po_number, order_number, asn, ship_date, customer);

CREATE UNIQUE INDEX uq_memberships_group_object ON memberships USING btree (group_id, entra_object_id);

CREATE UNIQUE INDEX uq_row_outcomes_row ON row_outcomes USING btree (file, sheet, "row");

CREATE UNIQUE INDEX uq_runs_run_no ON runs USING btree (run_no);

CREATE UNIQUE INDEX uq_voids_run_operator ON voids USING btree (voided_run_no, operator);

ALTER TABLE ONLY device_states
    ADD CONSTRAINT device_states_run_id_fkey FOREIGN KEY (run_id) REFERENCES runs(run_id);

ALTER TABLE ONLY manifests
    ADD CONSTRAINT manifests_run_id_fkey FOREIGN KEY (run_id) REFERENCES runs(run_id);

ALTER TABLE ONLY memberships
    ADD CONSTRAINT memberships_run_id_fkey FOREIGN KEY (run_id) REFERENCES runs(run_id);

INSERT INTO alembic_version (version_num) VALUES ('0014');


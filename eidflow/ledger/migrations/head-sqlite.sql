-- The ledger's schema at revision 0014, as its migrations build it (scripts/write_head_schema.py wrote this file; do not edit it).

CREATE TABLE alembic_version (
	version_num VARCHAR(32) NOT NULL, 
	CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);

CREATE TABLE runs (
	run_id VARCHAR(64) NOT NULL, 
	run_dir TEXT DEFAULT '' NOT NULL, 
	kind VARCHAR(16) DEFAULT 'ingest' NOT NULL, 
	host TEXT DEFAULT '' NOT NULL, 
	pid INTEGER DEFAULT '0' NOT NULL, 
	proc_start TEXT DEFAULT '' NOT NULL, 
	started_at DATETIME NOT NULL, 
	finished_at DATETIME, 
	state VARCHAR(16) NOT NULL, 
	error TEXT DEFAULT '' NOT NULL, 
	counts TEXT DEFAULT '' NOT NULL, 
	files TEXT DEFAULT '' NOT NULL, run_no INTEGER DEFAULT '0' NOT NULL, destination TEXT DEFAULT '' NOT NULL, delivery TEXT DEFAULT '' NOT NULL, 
	PRIMARY KEY (run_id)
);

CREATE INDEX ix_runs_state ON runs (state);

CREATE TABLE manifests (
	id INTEGER NOT NULL, 
	sha256 VARCHAR(64) NOT NULL, 
	name TEXT DEFAULT '' NOT NULL, 
	run_id VARCHAR(64) NOT NULL, 
	received_at DATETIME NOT NULL, 
	rows INTEGER DEFAULT '0' NOT NULL, 
	outcome VARCHAR(16) DEFAULT 'processed' NOT NULL, 
	error TEXT DEFAULT '' NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(run_id) REFERENCES runs (run_id)
);

CREATE INDEX ix_manifests_sha256 ON manifests (sha256);

CREATE TABLE device_states (
	id INTEGER NOT NULL, 
	eid VARCHAR(32) NOT NULL, 
	run_id VARCHAR(64) NOT NULL, 
	intune_state TEXT DEFAULT '' NOT NULL, 
	entra_object_id TEXT DEFAULT '' NOT NULL, 
	recorded_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(run_id) REFERENCES runs (run_id)
);

CREATE INDEX ix_device_states_eid ON device_states (eid);

CREATE TABLE memberships (
	id INTEGER NOT NULL, 
	group_id VARCHAR(64) NOT NULL, 
	eid VARCHAR(32) NOT NULL, 
	entra_object_id VARCHAR(64) NOT NULL, 
	run_id VARCHAR(64) NOT NULL, 
	added_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(run_id) REFERENCES runs (run_id)
);

CREATE INDEX ix_memberships_eid ON memberships (eid);

CREATE UNIQUE INDEX uq_memberships_group_object ON memberships (group_id, entra_object_id);

CREATE UNIQUE INDEX uq_runs_run_no ON runs (run_no);

CREATE TABLE descriptions (
	id INTEGER NOT NULL, 
	manufacturer TEXT DEFAULT '' NOT NULL, 
	model TEXT DEFAULT '' NOT NULL, 
	sku TEXT DEFAULT '' NOT NULL, 
	po_number TEXT DEFAULT '' NOT NULL, 
	order_number TEXT DEFAULT '' NOT NULL, 
	asn TEXT DEFAULT '' NOT NULL, 
	ship_date TEXT DEFAULT '' NOT NULL, 
	customer TEXT DEFAULT '' NOT NULL, 
	PRIMARY KEY (id)
);

CREATE UNIQUE INDEX uq_descriptions ON descriptions (manufacturer, model, sku, po_number, order_number, asn, ship_date, customer);

CREATE TABLE claims (
	eid VARCHAR(32) NOT NULL, 
	operator VARCHAR(128) NOT NULL, 
	run_no INTEGER NOT NULL, 
	serial_number TEXT DEFAULT '' NOT NULL, 
	imei TEXT DEFAULT '' NOT NULL, 
	manifest INTEGER DEFAULT '0' NOT NULL, 
	"row" INTEGER DEFAULT '0' NOT NULL, 
	description INTEGER DEFAULT '0' NOT NULL, 
	intune_state TEXT DEFAULT '' NOT NULL, 
	entra_object_id TEXT DEFAULT '' NOT NULL, 
	state_run INTEGER DEFAULT '0' NOT NULL, 
	PRIMARY KEY (eid, operator)
)
 WITHOUT ROWID

;

CREATE TABLE serials (
	serial_number TEXT NOT NULL, 
	eid VARCHAR(32) NOT NULL, 
	PRIMARY KEY (serial_number, eid)
)
 WITHOUT ROWID

;

CREATE TABLE released (
	id INTEGER NOT NULL, 
	eid VARCHAR(32) NOT NULL, 
	operator VARCHAR(128) NOT NULL, 
	run_no INTEGER NOT NULL, 
	serial_number TEXT DEFAULT '' NOT NULL, 
	imei TEXT DEFAULT '' NOT NULL, 
	manifest INTEGER DEFAULT '0' NOT NULL, 
	"row" INTEGER DEFAULT '0' NOT NULL, 
	description INTEGER DEFAULT '0' NOT NULL, 
	intune_state TEXT DEFAULT '' NOT NULL, 
	entra_object_id TEXT DEFAULT '' NOT NULL, 
	state_run INTEGER DEFAULT '0' NOT NULL, 
	released_at DATETIME NOT NULL, released_by INTEGER DEFAULT '0' NOT NULL, 
	PRIMARY KEY (id)
);

CREATE INDEX ix_released_eid ON released (eid);

CREATE INDEX ix_released_run_no ON released (run_no);

CREATE TABLE resends (
	id INTEGER NOT NULL, 
	eid VARCHAR(32) NOT NULL, 
	operator VARCHAR(128) NOT NULL, 
	run_no INTEGER NOT NULL, 
	reason TEXT DEFAULT '' NOT NULL, 
	requested_by TEXT DEFAULT '' NOT NULL, 
	PRIMARY KEY (id)
);

CREATE INDEX ix_resends_eid ON resends (eid);

CREATE INDEX ix_resends_run_no ON resends (run_no);

CREATE TABLE group_changes (
	id INTEGER NOT NULL, 
	run_id VARCHAR(64) NOT NULL, 
	group_id VARCHAR(64) NOT NULL, 
	entra_object_id VARCHAR(64) NOT NULL, 
	eid TEXT DEFAULT '' NOT NULL, 
	action VARCHAR(16) NOT NULL, 
	outcome VARCHAR(32) NOT NULL, 
	http_status INTEGER DEFAULT '0' NOT NULL, 
	answer TEXT DEFAULT '' NOT NULL, 
	changed_at DATETIME NOT NULL, 
	PRIMARY KEY (id)
);

CREATE INDEX ix_group_changes_group_object ON group_changes (group_id, entra_object_id);

CREATE INDEX ix_group_changes_run ON group_changes (run_id);

CREATE TABLE answers (
	id INTEGER NOT NULL, 
	eid VARCHAR(32) NOT NULL, 
	operator VARCHAR(128) NOT NULL, 
	run_no INTEGER NOT NULL, 
	answer VARCHAR(16) NOT NULL, 
	operator_status TEXT DEFAULT '' NOT NULL, 
	operator_reason TEXT DEFAULT '' NOT NULL, 
	iccid TEXT DEFAULT '' NOT NULL, 
	smdp_address TEXT DEFAULT '' NOT NULL, 
	order_id TEXT DEFAULT '' NOT NULL, 
	answered_at TEXT DEFAULT '' NOT NULL, 
	file_sha256 VARCHAR(64) NOT NULL, 
	file_name TEXT DEFAULT '' NOT NULL, 
	sheet TEXT DEFAULT '' NOT NULL, 
	"row" INTEGER DEFAULT '0' NOT NULL, 
	PRIMARY KEY (id)
);

CREATE INDEX ix_answers_eid_operator ON answers (eid, operator);

CREATE INDEX ix_answers_run_no ON answers (run_no);

CREATE TABLE answer_files (
	id INTEGER NOT NULL, 
	sha256 VARCHAR(64) NOT NULL, 
	name TEXT DEFAULT '' NOT NULL, 
	run_no INTEGER NOT NULL, 
	operator VARCHAR(128) NOT NULL, 
	rows INTEGER DEFAULT '0' NOT NULL, 
	PRIMARY KEY (id)
);

CREATE INDEX ix_answer_files_sha256 ON answer_files (sha256);

CREATE INDEX ix_answer_files_run_no ON answer_files (run_no);

CREATE TABLE intune_setups (
	operator VARCHAR(128) NOT NULL, 
	server TEXT DEFAULT '' NOT NULL, 
	group_id TEXT DEFAULT '' NOT NULL, 
	group_name TEXT DEFAULT '' NOT NULL, 
	policy_id TEXT DEFAULT '' NOT NULL, 
	policy_name TEXT DEFAULT '' NOT NULL, 
	applied_at DATETIME NOT NULL, 
	PRIMARY KEY (operator)
);

CREATE TABLE row_outcomes (
	id INTEGER NOT NULL, 
	run_no INTEGER NOT NULL, 
	first_run_no INTEGER NOT NULL, 
	manifest INTEGER DEFAULT '0' NOT NULL, 
	file INTEGER NOT NULL, 
	sheet TEXT DEFAULT '' NOT NULL, 
	"row" INTEGER DEFAULT '0' NOT NULL, 
	eid TEXT DEFAULT '' NOT NULL, 
	eid_raw TEXT DEFAULT '' NOT NULL, 
	serial_number TEXT DEFAULT '' NOT NULL, 
	imei TEXT DEFAULT '' NOT NULL, 
	description INTEGER DEFAULT '0' NOT NULL, 
	operator TEXT DEFAULT '' NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	reason TEXT DEFAULT '' NOT NULL, 
	detail TEXT DEFAULT '' NOT NULL, 
	PRIMARY KEY (id)
);

CREATE UNIQUE INDEX uq_row_outcomes_row ON row_outcomes (file, sheet, "row");

CREATE INDEX ix_row_outcomes_eid ON row_outcomes (eid);

CREATE INDEX ix_row_outcomes_eid_raw ON row_outcomes (eid_raw);

CREATE INDEX ix_row_outcomes_serial_number ON row_outcomes (serial_number);

CREATE INDEX ix_row_outcomes_imei ON row_outcomes (imei);

CREATE TABLE voids (
	id INTEGER NOT NULL, 
	voided_run_no INTEGER NOT NULL, 
	operator VARCHAR(128) NOT NULL, 
	released_by INTEGER NOT NULL, 
	run_no INTEGER NOT NULL, 
	eids INTEGER DEFAULT '0' NOT NULL, 
	reason TEXT DEFAULT '' NOT NULL, 
	requested_by TEXT DEFAULT '' NOT NULL, 
	PRIMARY KEY (id)
);

CREATE UNIQUE INDEX uq_voids_run_operator ON voids (voided_run_no, operator);

CREATE TABLE retirements (
	id INTEGER NOT NULL, 
	eid VARCHAR(32) NOT NULL, 
	serial_number TEXT DEFAULT '' NOT NULL, 
	entra_object_id TEXT DEFAULT '' NOT NULL, 
	action VARCHAR(16) NOT NULL, 
	run_no INTEGER NOT NULL, 
	reason TEXT DEFAULT '' NOT NULL, 
	requested_by TEXT DEFAULT '' NOT NULL, 
	PRIMARY KEY (id)
);

CREATE INDEX ix_retirements_eid ON retirements (eid);

CREATE TABLE profile_statuses (
	eid VARCHAR(32) NOT NULL, 
	operator VARCHAR(128) NOT NULL, 
	intune_device_id TEXT DEFAULT '' NOT NULL, 
	policy_id TEXT DEFAULT '' NOT NULL, 
	status TEXT DEFAULT '' NOT NULL, 
	policy_status TEXT DEFAULT '' NOT NULL, 
	reported_at TEXT DEFAULT '' NOT NULL, 
	device_eid TEXT DEFAULT '' NOT NULL, 
	eid_check TEXT DEFAULT '' NOT NULL, 
	read_at DATETIME NOT NULL, 
	PRIMARY KEY (eid, operator)
);

INSERT INTO alembic_version (version_num) VALUES ('0014');


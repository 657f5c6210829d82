//! The SQLite store: one file, WAL, one transaction per request, a schema version, and
//! an exclusive lock (one `serve` process a file).

use super::{ExecutionRows, RegionRows, Store, StoreError};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// `PRAGMA application_id` of a swf-iam database (`SWFI`).
pub const APPLICATION_ID: i32 = 0x5357_4649;

/// The schema version this build reads and writes (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i32 = 1;

const SCHEMA: &str = "
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE domains (region TEXT NOT NULL, name TEXT NOT NULL, body TEXT NOT NULL,
  PRIMARY KEY (region, name)) WITHOUT ROWID;
CREATE TABLE executions (region TEXT NOT NULL, idx INTEGER NOT NULL, body TEXT NOT NULL,
  PRIMARY KEY (region, idx)) WITHOUT ROWID;
CREATE TABLE events (region TEXT NOT NULL, exec INTEGER NOT NULL, id INTEGER NOT NULL,
  body TEXT NOT NULL, PRIMARY KEY (region, exec, id)) WITHOUT ROWID;
CREATE TABLE tokens (region TEXT NOT NULL, token TEXT NOT NULL, body TEXT NOT NULL,
  PRIMARY KEY (region, token)) WITHOUT ROWID;
";

/// The emulator's state in a SQLite file.
#[derive(Debug)]
pub struct SqliteStore {
    path: PathBuf,
    conn: Mutex<Connection>,
}

impl SqliteStore {
    /// Opens `path`, creating a new database there if the file does not exist or is
    /// empty. A file that is not SQLite, is another application's database, or was
    /// written with another schema version is refused and left untouched; so is a file
    /// another process holds.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let err = |m: String| StoreError {
            path: path.display().to_string(),
            message: m,
        };
        let fresh = std::fs::metadata(path).map_or(true, |m| m.len() == 0);
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| err(format!("cannot open: {e}")))?;
        conn.busy_timeout(std::time::Duration::from_millis(0))
            .map_err(|e| err(e.to_string()))?;
        // Read-only checks first: nothing is written to a file that is not ours.
        let app: i32 = conn
            .query_row("PRAGMA application_id", [], |r| r.get(0))
            .map_err(|e| locked_or(&err, e, "not a swf-iam database"))?;
        let version: i32 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| locked_or(&err, e, "not a swf-iam database"))?;
        let tables: i64 = conn
            .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
            .map_err(|e| locked_or(&err, e, "not a swf-iam database"))?;
        let new = fresh || (app == 0 && version == 0 && tables == 0);
        if !new {
            if app != APPLICATION_ID {
                return Err(err(
                    "not a swf-iam database (another application's SQLite file): left untouched"
                        .into(),
                ));
            }
            if version != SCHEMA_VERSION {
                return Err(err(format!(
                    "written with schema version {version}; this swf-iam reads version {SCHEMA_VERSION}: left untouched"
                )));
            }
        }
        // One process a file: an exclusive lock, held from the first write on.
        conn.execute_batch(
            "PRAGMA locking_mode = EXCLUSIVE; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;",
        )
        .map_err(|e| err(format!("cannot set up: {e}")))?;
        if new {
            conn.execute_batch(&format!(
                "BEGIN EXCLUSIVE; {SCHEMA}
                 INSERT INTO meta VALUES ('created_by', 'swf-iam {}');
                 PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {SCHEMA_VERSION};
                 COMMIT;",
                env!("CARGO_PKG_VERSION")
            ))
            .map_err(|e| locked_or(&err, e, "cannot create the schema"))?;
        } else {
            // Take the lock now, so that a second server fails at start, not later.
            conn.execute_batch("BEGIN EXCLUSIVE; COMMIT;")
                .map_err(|e| locked_or(&err, e, "cannot lock"))?;
        }
        Ok(SqliteStore {
            path: path.to_path_buf(),
            conn: Mutex::new(conn),
        })
    }

    fn err(&self, what: &str, e: impl std::fmt::Display) -> StoreError {
        StoreError {
            path: self.path.display().to_string(),
            message: format!("{what}: {e}"),
        }
    }

    fn conn(&self) -> Result<std::sync::MutexGuard<'_, Connection>, StoreError> {
        self.conn
            .lock()
            .map_err(|_| self.err("the connection", "poisoned by an earlier failure"))
    }
}

fn locked_or(err: &dyn Fn(String) -> StoreError, e: rusqlite::Error, what: &str) -> StoreError {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
            err("in use by another process (one `serve` a database file)".into())
        }
        _ => err(format!("{what} ({e})")),
    }
}

impl Store for SqliteStore {
    fn load(&self) -> Result<Vec<RegionRows>, StoreError> {
        let conn = self.conn()?;
        let e = |e: rusqlite::Error| self.err("cannot read", e);
        let mut regions: std::collections::BTreeMap<String, RegionRows> = Default::default();
        fn get<'a>(
            regions: &'a mut std::collections::BTreeMap<String, RegionRows>,
            r: &str,
        ) -> &'a mut RegionRows {
            regions.entry(r.to_owned()).or_insert_with(|| RegionRows {
                region: r.to_owned(),
                ..RegionRows::default()
            })
        }
        let mut q = conn
            .prepare("SELECT region, name, body FROM domains ORDER BY region, name")
            .map_err(e)?;
        let rows = q
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?)))
            .map_err(e)?;
        for row in rows {
            let (region, name, body) = row.map_err(e)?;
            get(&mut regions, &region).domains.push((name, body));
        }
        let mut q = conn
            .prepare("SELECT region, idx, body FROM executions ORDER BY region, idx")
            .map_err(e)?;
        let rows = q
            .query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get(2)?))
            })
            .map_err(e)?;
        for row in rows {
            let (region, idx, body) = row.map_err(e)?;
            get(&mut regions, &region).executions.push(ExecutionRows {
                index: idx as u64,
                body,
                events: Vec::new(),
            });
        }
        let mut q = conn
            .prepare("SELECT region, exec, id, body FROM events ORDER BY region, exec, id")
            .map_err(e)?;
        let rows = q
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })
            .map_err(e)?;
        for row in rows {
            let (region, exec, id, body) = row.map_err(e)?;
            let rr = get(&mut regions, &region);
            // Executions are in index order: find by binary search.
            let at = rr
                .executions
                .binary_search_by_key(&(exec as u64), |x| x.index)
                .map_err(|_| {
                    self.err(
                        "inconsistent",
                        format!("event {id} of execution {exec} in {region}, which has no row"),
                    )
                })?;
            rr.executions[at].events.push((id as u64, body));
        }
        let mut q = conn
            .prepare("SELECT region, token, body FROM tokens ORDER BY region, token")
            .map_err(e)?;
        let rows = q
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?)))
            .map_err(e)?;
        for row in rows {
            let (region, token, body) = row.map_err(e)?;
            get(&mut regions, &region).tokens.push((token, body));
        }
        drop(q);
        Ok(regions.into_values().collect())
    }

    fn commit(&self, c: &RegionRows) -> Result<(), StoreError> {
        if c.is_empty() {
            return Ok(());
        }
        let mut conn = self.conn()?;
        let e = |e: rusqlite::Error| self.err("cannot write", e);
        let tx = conn.transaction().map_err(e)?;
        {
            let mut put_domain = tx
                .prepare_cached("INSERT OR REPLACE INTO domains VALUES (?1, ?2, ?3)")
                .map_err(e)?;
            for (name, body) in &c.domains {
                put_domain
                    .execute(params![c.region, name, body])
                    .map_err(e)?;
            }
            let mut put_exec = tx
                .prepare_cached("INSERT OR REPLACE INTO executions VALUES (?1, ?2, ?3)")
                .map_err(e)?;
            let mut put_event = tx
                .prepare_cached("INSERT OR REPLACE INTO events VALUES (?1, ?2, ?3, ?4)")
                .map_err(e)?;
            for x in &c.executions {
                put_exec
                    .execute(params![c.region, x.index as i64, x.body])
                    .map_err(e)?;
                for (id, body) in &x.events {
                    put_event
                        .execute(params![c.region, x.index as i64, *id as i64, body])
                        .map_err(e)?;
                }
            }
            let mut put_token = tx
                .prepare_cached("INSERT OR REPLACE INTO tokens VALUES (?1, ?2, ?3)")
                .map_err(e)?;
            for (token, body) in &c.tokens {
                put_token
                    .execute(params![c.region, token, body])
                    .map_err(e)?;
            }
        }
        tx.commit().map_err(e)
    }

    fn clear(&self) -> Result<(), StoreError> {
        self.conn()?
            .execute_batch(
                "BEGIN; DELETE FROM domains; DELETE FROM executions; DELETE FROM events;
                 DELETE FROM tokens; COMMIT;",
            )
            .map_err(|e| self.err("cannot clear", e))
    }

    fn describe(&self) -> String {
        format!("SQLite {}", self.path.display())
    }
}

/// How many executions a database holds (for the banner), if it can be read.
pub fn count_executions(store: &SqliteStore) -> Option<u64> {
    let conn = store.conn().ok()?;
    conn.query_row("SELECT count(*) FROM executions", [], |r| {
        r.get::<_, i64>(0)
    })
    .optional()
    .ok()
    .flatten()
    .map(|n| n as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("swf-iam-store-{}-{name}", std::process::id()));
        let _ = std::fs::remove_file(&d);
        d
    }

    #[test]
    fn rows_survive_a_reopen_and_a_clear_empties_them() {
        let p = tmp("rows.db");
        {
            let s = SqliteStore::open(&p).unwrap();
            s.commit(&RegionRows {
                region: "us-east-1".into(),
                domains: vec![("orders".into(), "{\"a\":1}".into())],
                executions: vec![ExecutionRows {
                    index: 0,
                    body: "{}".into(),
                    events: vec![(1, "{\"e\":1}".into()), (2, "{\"e\":2}".into())],
                }],
                tokens: vec![("AAAAtok".into(), "{\"t\":0}".into())],
            })
            .unwrap();
            s.commit(&RegionRows {
                region: "us-east-1".into(),
                executions: vec![ExecutionRows {
                    index: 0,
                    body: "{\"x\":2}".into(),
                    events: vec![(3, "{\"e\":3}".into())],
                }],
                ..RegionRows::default()
            })
            .unwrap();
        }
        let s = SqliteStore::open(&p).unwrap();
        let rows = s.load().unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(
            rows[0].domains,
            [("orders".to_owned(), "{\"a\":1}".to_owned())]
        );
        assert_eq!(rows[0].executions[0].body, "{\"x\":2}");
        assert_eq!(
            rows[0].executions[0]
                .events
                .iter()
                .map(|e| e.0)
                .collect::<Vec<_>>(),
            [1, 2, 3]
        );
        assert_eq!(rows[0].tokens.len(), 1);
        s.clear().unwrap();
        assert!(s.load().unwrap().is_empty());
    }

    #[test]
    fn a_file_that_is_not_ours_is_refused_and_left_untouched() {
        let p = tmp("text.db");
        std::fs::write(
            &p,
            b"this is not a database, it is a text file\n".repeat(200),
        )
        .unwrap();
        let before = std::fs::read(&p).unwrap();
        let e = SqliteStore::open(&p).unwrap_err();
        assert!(e.message.contains("not a swf-iam database"), "{e}");
        assert_eq!(std::fs::read(&p).unwrap(), before);

        let other = tmp("other.db");
        {
            let c = Connection::open(&other).unwrap();
            c.execute_batch("CREATE TABLE notes (x TEXT); INSERT INTO notes VALUES ('mine');")
                .unwrap();
        }
        let before = std::fs::read(&other).unwrap();
        let e = SqliteStore::open(&other).unwrap_err();
        assert!(e.message.contains("another application"), "{e}");
        assert_eq!(std::fs::read(&other).unwrap(), before);

        let newer = tmp("newer.db");
        {
            let c = Connection::open(&newer).unwrap();
            c.execute_batch(&format!(
                "PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = 99; CREATE TABLE meta (k TEXT);"
            ))
            .unwrap();
        }
        let e = SqliteStore::open(&newer).unwrap_err();
        assert!(e.message.contains("schema version 99"), "{e}");
    }

    #[test]
    fn a_second_process_on_the_same_file_is_refused() {
        let p = tmp("lock.db");
        let _first = SqliteStore::open(&p).unwrap();
        let e = SqliteStore::open(&p).unwrap_err();
        assert!(e.message.contains("in use by another process"), "{e}");
    }
}

//! The implementation of [`IntegrityStore`].

use super::{Result, Tx};
use super::{params, sql};
use crate::store::Counted;
use crate::store::integrity::{Finding, IntegrityStore};

impl IntegrityStore for Tx<'_> {
    fn check_storage(&self, full: bool, max: usize) -> Result<Vec<Finding>> {
        let statement = if full {
            sql!(check_sqlite_full)
        } else {
            sql!(check_sqlite_quick)
        };
        let (rows, stopped) =
            self.rows_until_error(statement, params![max], |r| r.get::<String>(0))?;
        let mut findings: Vec<Finding> = rows
            .iter()
            .flat_map(|row| row.lines())
            .filter(|line| *line != "ok" && !line.starts_with("*** in database "))
            .map(|line| Finding::Storage(line.to_owned()))
            .collect();
        match stopped {
            None => {}
            Some(e) if findings.is_empty() => return Err(e),
            Some(e) => findings.push(Finding::Storage(format!("the check stopped here: {e}"))),
        }
        Ok(findings)
    }

    fn check_foreign_keys(&self, max: usize) -> Result<Vec<Finding>> {
        self.rows(sql!(check_foreign_keys), params![max], |r| {
            Ok(Finding::ForeignKey {
                table: r.get(0)?,
                rowid: r.get(1)?,
                parent: r.get(2)?,
            })
        })
    }

    fn check_orphan_deliveries(&self, max: usize) -> Result<Vec<Finding>> {
        self.rows(sql!(check_orphan_deliveries), params![max], |r| {
            Ok(Finding::OrphanDelivery {
                id: r.get(0)?,
                message_id: r.get(1)?,
                subscriber: r.get(2)?,
            })
        })
    }

    fn check_orphan_history(&self, max: usize) -> Result<Vec<Finding>> {
        self.rows(sql!(check_orphan_history), params![max], |r| {
            Ok(Finding::OrphanHistory {
                incoming: r.get(0)?,
                record_id: r.get(1)?,
                rows: r.get(2)?,
            })
        })
    }

    fn check_message_statuses(&self, max: usize) -> Result<Vec<Finding>> {
        self.rows(sql!(check_message_statuses), params![max], |r| {
            Ok(Finding::MessageStatus {
                id: r.get(0)?,
                uuid: r.get(1)?,
                status: r.get(2)?,
                deliveries: r.get(3)?,
                pending: r.get(4)?,
                dead: r.get(5)?,
            })
        })
    }

    fn check_queue_counts(&self, max: usize) -> Result<Vec<Finding>> {
        let [messages, deliveries, incoming] = Counted::ALL.map(Counted::kind);
        self.rows(
            sql!(check_queue_counts),
            params![messages, deliveries, incoming, max],
            |r| {
                Ok(Finding::Count {
                    kind: r.get(0)?,
                    flow: r.get(1)?,
                    subscriber: r.get(2)?,
                    status: r.get(3)?,
                    kept: r.get(4)?,
                    actual: r.get(5)?,
                })
            },
        )
    }
}

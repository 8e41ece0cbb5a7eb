//! The implementation of [`CountStore`].

use std::collections::BTreeMap;
use std::str::FromStr;

use super::{Result, StoreError, Tx};
use super::{params, sql};
use crate::status::UnknownStatus;
use crate::store::counts::{CountStore, Counted, QueueCount, StatusCounts};
use crate::time::Timestamp;

/// Adds count `c` to its status in `into`.
fn tally<S>(into: &mut BTreeMap<S, u64>, c: &QueueCount) -> Result<()>
where
    S: FromStr<Err = UnknownStatus> + Ord,
{
    let status = c
        .status
        .parse()
        .map_err(|e: UnknownStatus| StoreError::Sql {
            statement: "select_queue_counts",
            source: Box::new(e),
        })?;
    *into.entry(status).or_default() += c.n;
    Ok(())
}

impl CountStore for Tx<'_> {
    fn queue_counts(&self) -> Result<Vec<QueueCount>> {
        let rows = self.rows(sql!(select_queue_counts), &[], |r| {
            Ok((
                r.get::<String>(0)?,
                QueueCount {
                    queue: Counted::Messages,
                    flow: r.get(1)?,
                    subscriber: r.get(2)?,
                    status: r.get(3)?,
                    n: r.get(4)?,
                },
            ))
        })?;
        Ok(rows
            .into_iter()
            .filter_map(|(kind, count)| {
                Some(QueueCount {
                    queue: Counted::from_kind(&kind)?,
                    ..count
                })
            })
            .collect())
    }

    fn status_counts(&self) -> Result<StatusCounts> {
        let mut counts = StatusCounts::default();
        for c in self.queue_counts()? {
            match c.queue {
                Counted::Messages => tally(&mut counts.messages, &c)?,
                Counted::Deliveries => tally(&mut counts.deliveries, &c)?,
                Counted::Incoming => tally(&mut counts.incoming, &c)?,
            }
        }
        Ok(counts)
    }

    fn oldest_pending(&self, queue: Counted, flow: &str) -> Result<Option<Timestamp>> {
        let statement = match queue {
            Counted::Messages => sql!(oldest_pending_message),
            Counted::Deliveries => sql!(oldest_pending_delivery),
            Counted::Incoming => sql!(oldest_pending_incoming),
        };
        Ok(self
            .row(statement, params![flow], |r| r.get::<Option<i64>>(0))?
            .flatten()
            .map(Timestamp::from_millis))
    }
}

//! The implementation of [`ExchangeStore`].

use super::json_list;
use super::{Result, Tx};
use super::{Row, RowError, params, sql, status_column};
use crate::status::{InboxStatus, OutboxStatus};
use crate::store::exchange::{
    ClaimedInbox, EndpointRow, ExchangeStore, InboxRow, NewInbox, NewOutbox, OutboxListRow,
    OutboxRow, RecipientKind,
};
use crate::time::Timestamp;

fn endpoint(r: &Row<'_>) -> Result<EndpointRow, RowError> {
    Ok(EndpointRow {
        code: r.get(0)?,
        name: r.get(1)?,
        url: r.get(2)?,
        username: r.get(3)?,
        password: r.get(4)?,
        blocked: r.get(5)?,
    })
}

fn inbox(r: &Row<'_>) -> Result<InboxRow, RowError> {
    Ok(InboxRow {
        id: r.get(0)?,
        uuid: r.get(1)?,
        sender: r.get(2)?,
        channel: r.get(3)?,
        body: r.get(4)?,
        status: status_column(r, 5)?,
        attempts: r.get(6)?,
        last_error: r.get(7)?,
        created_at: Timestamp::from_millis(r.get(8)?),
        updated_at: Timestamp::from_millis(r.get(9)?),
    })
}

impl Tx<'_> {
    /// Every endpoint, its password as stored (sealed or not).
    pub(super) fn exchange_endpoints_as_stored(&self) -> Result<Vec<EndpointRow>> {
        self.rows(sql!(select_exchange_endpoints), &[], endpoint)
    }

    /// `e` with its password as given (opened when sealed).
    fn open_password(&self, mut e: EndpointRow) -> Result<EndpointRow> {
        e.password = crate::secrets::open(self.secrets_key(), &e.password)?;
        Ok(e)
    }
}

impl ExchangeStore for Tx<'_> {
    fn exchange_self(&self, code: &str, name: &str) -> Result<(String, String)> {
        self.write(sql!(insert_exchange_self), params![code, name])?;
        Ok(self
            .stored_exchange_self()?
            .unwrap_or_else(|| (code.to_owned(), name.to_owned())))
    }

    fn stored_exchange_self(&self) -> Result<Option<(String, String)>> {
        self.row(sql!(select_exchange_self), &[], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
    }

    fn upsert_exchange_endpoint(&self, e: &EndpointRow, now: Timestamp) -> Result<()> {
        self.write(
            sql!(upsert_exchange_endpoint),
            params![
                &e.code,
                &e.name,
                &e.url,
                &e.username,
                &crate::secrets::seal(self.secrets_key(), &e.password),
                now.as_millis(),
            ],
        )?;
        Ok(())
    }

    fn exchange_endpoint(&self, code: &str) -> Result<Option<EndpointRow>> {
        self.row(sql!(select_exchange_endpoint), params![code], endpoint)?
            .map(|e| self.open_password(e))
            .transpose()
    }

    fn exchange_endpoints(&self) -> Result<Vec<EndpointRow>> {
        self.exchange_endpoints_as_stored()?
            .into_iter()
            .map(|e| self.open_password(e))
            .collect()
    }

    fn set_exchange_endpoint_blocked(
        &self,
        code: &str,
        blocked: bool,
        now: Timestamp,
    ) -> Result<bool> {
        Ok(self.execute(
            sql!(set_exchange_endpoint_blocked),
            params![code, blocked, now.as_millis()],
        )? == 1)
    }

    fn add_exchange_recipient(
        &self,
        kind: RecipientKind,
        channel: &str,
        recipient: &str,
    ) -> Result<()> {
        self.write(
            sql!(insert_exchange_recipient),
            params![kind.as_str(), channel, recipient],
        )?;
        Ok(())
    }

    fn remove_exchange_recipient(
        &self,
        kind: RecipientKind,
        channel: &str,
        recipient: &str,
    ) -> Result<bool> {
        Ok(self.execute(
            sql!(delete_exchange_recipient),
            params![kind.as_str(), channel, recipient],
        )? == 1)
    }

    fn clear_exchange_recipients(&self, kind: RecipientKind, channel: &str) -> Result<()> {
        self.write(
            sql!(delete_exchange_recipients),
            params![kind.as_str(), channel],
        )?;
        Ok(())
    }

    fn exchange_recipients(&self, kind: RecipientKind, channel: &str) -> Result<Vec<String>> {
        self.rows(
            sql!(select_exchange_recipients),
            params![kind.as_str(), channel],
            |r| r.get(0),
        )
    }

    fn insert_outbox(&self, m: &NewOutbox<'_>, now: Timestamp) -> Result<()> {
        self.serialize("outbox", "", m.recipient)?;
        self.write(
            sql!(insert_outbox),
            params![
                m.uuid,
                m.kind,
                m.channel,
                m.recipient,
                m.body,
                m.quick,
                now.as_millis(),
            ],
        )?;
        Ok(())
    }

    fn outbox_recipients(&self, now: Timestamp, quick_only: bool) -> Result<Vec<String>> {
        self.rows(
            sql!(select_outbox_recipients),
            params![now.as_millis(), quick_only],
            |r| r.get(0),
        )
    }

    fn claim_outbox(
        &self,
        owner: &str,
        lease_until: Timestamp,
        now: Timestamp,
        recipient: &str,
        quick_only: bool,
        max: usize,
    ) -> Result<Vec<OutboxRow>> {
        // Nothing is claimed while a delivery to the recipient is in flight: a rule the claim
        // can check only once the claims of other transactions are committed.
        self.serialize("outbox claim", "", recipient)?;
        let mut rows = self.rows(
            sql!(claim_outbox),
            params![
                owner,
                lease_until.as_millis(),
                now.as_millis(),
                recipient,
                quick_only,
                max,
            ],
            |r| {
                Ok(OutboxRow {
                    id: r.get(0)?,
                    uuid: r.get(1)?,
                    kind: r.get(2)?,
                    channel: r.get(3)?,
                    body: r.get(4)?,
                    attempts: r.get(5)?,
                })
            },
        )?;
        rows.sort_by_key(|r| r.id);
        Ok(rows)
    }

    fn finish_outbox(
        &self,
        id: i64,
        owner: Option<&str>,
        to: OutboxStatus,
        error: Option<&str>,
        next_attempt_at: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<bool> {
        Ok(self.execute(
            sql!(finish_outbox),
            params![
                id,
                owner,
                to.as_str(),
                error,
                next_attempt_at.map(Timestamp::as_millis),
                now.as_millis(),
            ],
        )? == 1)
    }

    fn mark_outbox_done(&self, uuid: &str, recipient: &str, now: Timestamp) -> Result<()> {
        self.write(
            sql!(mark_outbox_done),
            params![uuid, recipient, now.as_millis()],
        )?;
        Ok(())
    }

    fn next_outbox_due(&self, now: Timestamp) -> Result<Option<Timestamp>> {
        Ok(self
            .row(sql!(next_outbox_due), params![now.as_millis()], |r| {
                r.get::<Option<i64>>(0)
            })?
            .flatten()
            .map(Timestamp::from_millis))
    }

    fn next_inbox_due(&self, channels: &[&str]) -> Result<Option<Timestamp>> {
        Ok(self
            .row(sql!(next_inbox_due), params![&json_list(channels)], |r| {
                r.get::<Option<i64>>(0)
            })?
            .flatten()
            .map(Timestamp::from_millis))
    }

    fn outbox(&self, status: Option<OutboxStatus>, limit: usize) -> Result<Vec<OutboxListRow>> {
        self.rows(
            sql!(select_outbox),
            params![status.map(OutboxStatus::as_str), limit],
            |r| {
                Ok(OutboxListRow {
                    uuid: r.get(0)?,
                    kind: r.get(1)?,
                    channel: r.get(2)?,
                    recipient: r.get(3)?,
                    quick: r.get(4)?,
                    status: status_column(r, 5)?,
                    attempts: r.get(6)?,
                    last_error: r.get(7)?,
                    created_at: Timestamp::from_millis(r.get(8)?),
                    updated_at: Timestamp::from_millis(r.get(9)?),
                })
            },
        )
    }

    fn insert_inbox(&self, m: &NewInbox<'_>, now: Timestamp) -> Result<bool> {
        let status = match m.quarantined {
            Some(_) => InboxStatus::Quarantined,
            None => InboxStatus::New,
        };
        self.serialize("inbox", m.sender, m.channel)?;
        let inserted: Option<i64> = self.row(
            sql!(insert_inbox),
            params![
                m.uuid,
                m.sender,
                m.channel,
                m.body,
                status.as_str(),
                now.as_millis(),
                m.quarantined,
            ],
            |r| r.get(0),
        )?;
        Ok(inserted.is_some())
    }

    fn release_inbox(&self, ids: &[&str], owner: &str, now: Timestamp) -> Result<usize> {
        self.execute(
            sql!(release_inbox),
            params![&json_list(ids), owner, now.as_millis()],
        )
    }

    fn claim_inbox(
        &self,
        owner: &str,
        lease_until: Timestamp,
        now: Timestamp,
        (channels, excluded): (Option<&[&str]>, &[&str]),
        max: usize,
    ) -> Result<Vec<ClaimedInbox>> {
        let mut rows = self.rows(
            sql!(claim_inbox),
            params![
                owner,
                lease_until.as_millis(),
                now.as_millis(),
                channels.map(json_list).as_ref(),
                max,
                &json_list(excluded),
            ],
            |r| {
                Ok(ClaimedInbox {
                    id: r.get(0)?,
                    uuid: r.get(1)?,
                    sender: r.get(2)?,
                    channel: r.get(3)?,
                    body: r.get(4)?,
                    attempts: r.get(5)?,
                })
            },
        )?;
        rows.sort_by_key(|r| r.id);
        Ok(rows)
    }

    fn finish_inbox(
        &self,
        id: i64,
        (to, error, next): (InboxStatus, Option<&str>, Option<Timestamp>),
        owner: Option<&str>,
        now: Timestamp,
    ) -> Result<bool> {
        let next = next.map(Timestamp::as_millis);
        Ok(self.execute(
            sql!(finish_inbox),
            params![id, to.as_str(), error, now.as_millis(), owner, next],
        )? == 1)
    }

    fn inbox_message(&self, uuid: &str) -> Result<Option<InboxRow>> {
        self.row(sql!(select_inbox_by_uuid), params![uuid], inbox)
    }

    fn inbox(&self, status: Option<InboxStatus>, limit: usize) -> Result<Vec<InboxRow>> {
        self.rows(
            sql!(select_inbox),
            params![status.map(InboxStatus::as_str), limit],
            inbox,
        )
    }

    fn redrive_inbox(&self, uuid: Option<&str>, now: Timestamp) -> Result<usize> {
        self.execute(sql!(redrive_inbox), params![uuid, now.as_millis()])
    }
}

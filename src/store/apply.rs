//! Applying decisions inside one transaction: the state change with its optimistic version check,
//! the timers, the children a fan-out spawns, the audit events, and the joins that the change
//! completes — all commit together or not at all.

use std::collections::VecDeque;

use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use serde_json::json;
use time::OffsetDateTime;

use crate::clock::to_micros;
use crate::definition::Definition;
use crate::engine::{self, Actor, Context, Decision, JoinStatus, Refusal};
use crate::store::audit::{NewEvent, insert, instance_stream, seal};
use crate::store::db::{exec, row};
use crate::store::definitions::{Registry, RegistryError};
use crate::store::instances::{self, InstanceRow};
use crate::store::outbox;
use crate::store::summaries::{self, Child};
use crate::store::timers;

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error(
        "instance {instance} was changed by someone else (it is at version {found}, not {expected}); reload and try again"
    )]
    Conflict { instance: i64, expected: i64, found: i64 },
    #[error("a fan-out or join was refused: {0}")]
    Refused(Refusal),
    #[error("fan-out to {0:?}, which is not loaded")]
    UnknownProcess(String),
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Work that a change leaves to be done in the same transaction.
enum Pending {
    /// An instance entered a joining state, or one of its children finished: see if its join is
    /// decided.
    CheckJoin(i64),
}

pub struct Applier<'a, C> {
    pub conn: &'a C,
    pub db: &'a sea_orm::DatabaseConnection,
    pub registry: &'a Registry,
    pub ctx: Context<'a>,
}

impl<'a, C: ConnectionTrait> Applier<'a, C> {
    fn now(&self) -> OffsetDateTime {
        self.ctx.now
    }

    /// Inserts a new instance with its initial timers and its first audit event.
    pub async fn insert_instance(
        &self,
        definition_id: i64,
        def: &Definition,
        started: &engine::Started,
        parent: Option<(i64, i64)>,
        actor: &Actor,
        kind: &str,
    ) -> Result<i64, ApplyError> {
        let mut sums = summaries::Changes::default();
        let id = self.insert_one(definition_id, def, started, parent, actor, kind, &mut sums).await?;
        sums.write(self.conn).await?;
        Ok(id)
    }

    /// [`Self::insert_instance`], its part in its parent's summaries left in `sums`.
    #[expect(clippy::too_many_arguments, reason = "insert_instance's, and where its summary changes go")]
    async fn insert_one(
        &self,
        definition_id: i64,
        def: &Definition,
        started: &engine::Started,
        parent: Option<(i64, i64)>,
        actor: &Actor,
        kind: &str,
        sums: &mut summaries::Changes,
    ) -> Result<i64, ApplyError> {
        let now = to_micros(self.now());
        let data = crate::store::units::record_defaults(self.conn, def, started.data.clone()).await?;
        let (parent_id, fanout) = match parent {
            Some((p, f)) => (Some(p), f),
            None => (None, 0),
        };
        #[derive(FromQueryResult)]
        struct Inserted {
            id: i64,
        }
        let Inserted { id } = row(
            self.conn,
            "INSERT INTO instances (definition_id, process, state, data, version, parent_id, fanout, fanouts, outcome, created_by, created_at, updated_at)
             VALUES ($1, $2, $3, $4, 1, $5, $6, 0, NULL, $7, $8, $8) RETURNING id",
            vec![
                definition_id.into(),
                def.id.clone().into(),
                started.state.clone().into(),
                serde_json::Value::Object(data.clone()).to_string().into(),
                parent_id.into(),
                fanout.into(),
                actor.name.clone().into(),
                now.into(),
            ],
        )
        .await?
        .ok_or(DbErr::RecordNotInserted)?;
        if let Some(parent) = parent_id {
            let started_on = self.now().to_offset(self.ctx.offset).date();
            let row = engine::report::Row {
                state: &started.state,
                outcome: None,
                data: &data,
                started: started_on,
                stage_days: None,
            };
            sums.change(None, Some(&Child { parent, def, row }));
        }
        for t in &started.timers {
            timers::insert(self.conn, id, t, self.now()).await?;
        }
        for key in &def.unique {
            let Some(value) = key.of(&data) else { continue };
            if let Some(open) = crate::store::keys::claim(self.conn, &def.id, &value, id).await? {
                return Err(ApplyError::Refused(engine::Refusal::Duplicate { fields: key.fields.clone(), open }));
            }
        }
        let sealed = seal(
            NewEvent {
                stream: instance_stream(id),
                at: self.now(),
                actor: &actor.name,
                kind,
                process: Some(&def.id),
                instance_id: Some(id),
                event: None,
                from_state: None,
                to_state: Some(&started.state),
                data: json!({ "data": data, "parent": parent_id }),
            },
            None,
        );
        exec(
            self.conn,
            "UPDATE instances SET audit_seq = 0, audit_hash = $1 WHERE id = $2",
            vec![sealed.hash.clone().into(), id.into()],
        )
        .await?;
        let (stream, hash) = (sealed.record.stream.clone(), sealed.hash.clone());
        insert(self.conn, sealed).await?;
        let change = outbox::Change {
            kind: outbox::EventType::Started,
            occurred_at: self.now(),
            process: &def.id,
            instance: id,
            event: None,
            from_state: None,
            to_state: &started.state,
            entered: true,
            outcome: None,
            actor: &actor.name,
            version: 1,
            input: serde_json::Value::Object(data),
            audit: (&stream, 0, &hash),
        };
        outbox::enqueue(self.conn, &change).await?;
        Ok(id)
    }

    /// Applies a decision made on `inst` (read at `inst.version`), then everything it sets off.
    pub async fn apply(
        &self,
        inst: &InstanceRow,
        def: &Definition,
        decision: Decision,
        actor: &Actor,
        kind: &str,
    ) -> Result<InstanceRow, ApplyError> {
        let mut pending = VecDeque::new();
        let mut sums = summaries::Changes::default();
        let row = self.apply_one(inst, def, decision, actor, kind, &mut pending, &mut sums).await?;
        while let Some(Pending::CheckJoin(id)) = pending.pop_front() {
            self.check_join(id, &mut pending, &mut sums).await?;
        }
        sums.write(self.conn).await?;
        Ok(row)
    }

    #[expect(clippy::too_many_arguments, reason = "a decision, and where what it sets off goes")]
    async fn apply_one(
        &self,
        inst: &InstanceRow,
        def: &Definition,
        mut d: Decision,
        actor: &Actor,
        kind: &str,
        pending: &mut VecDeque<Pending>,
        sums: &mut summaries::Changes,
    ) -> Result<InstanceRow, ApplyError> {
        let fanouts = inst.fanouts + i64::from(!d.spawns.is_empty());
        let mut drawn = serde_json::Map::new();
        for order in &d.numbers {
            let seq = crate::store::keys::next_number(self.conn, &order.scope).await?;
            let number = serde_json::Value::String(order.pattern.format(order.year, seq));
            d.data.insert(order.into.clone(), number.clone());
            drawn.insert(order.into.clone(), number);
        }
        if d.outcome.is_some() && !def.unique.is_empty() {
            crate::store::keys::release(self.conn, inst.id).await?;
        }
        // The audit event is sealed first, so the row's update carries the new chain head.
        let sealed = seal(
            NewEvent {
                stream: instance_stream(inst.id),
                at: self.now(),
                actor: &actor.name,
                kind,
                process: Some(&def.id),
                instance_id: Some(inst.id),
                event: Some(&d.event),
                from_state: Some(&d.from),
                to_state: Some(&d.to),
                data: {
                    let mut data = json!({ "input": d.input, "vote": d.vote, "spawned": d.spawns.len() });
                    // A signature for someone else: whose, and by which written delegation.
                    if let Some((person, letter)) = &d.delegation {
                        data["for"] = json!(person);
                        data["delegation"] = json!(letter);
                    }
                    // A step by a substitute: whose work it was, and under which substitution.
                    if let Some(s) = &actor.substituting {
                        data["for"] = json!(s.absent);
                        data["substitution"] = json!(s.id);
                    }
                    if !drawn.is_empty() {
                        data["numbered"] = serde_json::Value::Object(drawn);
                    }
                    // The file the step carries: its sha256 in the chain.
                    if let Some(file) = &d.attachment {
                        data["attachment"] = crate::store::attachments::audit_data(file);
                    }
                    // The rows added to tables, by table: a history reads them as rows added.
                    if !d.rows_added.is_empty() {
                        let mut added = serde_json::Map::new();
                        for (table, row) in &d.rows_added {
                            if let serde_json::Value::Array(rows) =
                                added.entry(table.clone()).or_insert_with(|| json!([]))
                            {
                                rows.push(row.clone());
                            }
                        }
                        data["rows_added"] = serde_json::Value::Object(added);
                    }
                    data
                },
            },
            inst.audit_head(),
        );
        let changed = exec(
            self.conn,
            "UPDATE instances SET state = $1, data = $2, version = version + 1, outcome = $3, fanouts = $4, updated_at = $5,
                    audit_seq = $6, audit_hash = $7
             WHERE id = $8 AND version = $9 AND audit_hash = $10",
            vec![
                d.to.clone().into(),
                serde_json::Value::Object(d.data.clone()).to_string().into(),
                d.outcome.map(|o| o.as_str().to_owned()).into(),
                fanouts.into(),
                to_micros(self.now()).into(),
                sealed.record.seq.into(),
                sealed.hash.clone().into(),
                inst.id.into(),
                inst.version.into(),
                // The chain's head names the row's content: a row remembered from a step whose
                // transaction was rolled back has the version number of a real one, not its head.
                inst.audit_hash.clone().into(),
            ],
        )
        .await?;
        if changed == 0 {
            let found = instances::find(self.conn, inst.id).await?.map_or(-1, |i| i.version);
            return Err(ApplyError::Conflict { instance: inst.id, expected: inst.version, found });
        }
        let (audit_seq, audit_hash) = (sealed.record.seq, sealed.hash.clone());
        let stream = sealed.record.stream.clone();
        insert(self.conn, sealed).await?;
        // The deliveries of the change, in its transaction: none is sent for a change rolled back.
        let outcome = d.outcome.map(|o| o.as_str());
        let change = outbox::Change {
            kind: if outcome.is_some() { outbox::EventType::Finished } else { outbox::EventType::Changed },
            occurred_at: self.now(),
            process: &def.id,
            instance: inst.id,
            event: Some(&d.event),
            from_state: Some(&d.from),
            to_state: &d.to,
            entered: d.enters,
            outcome,
            actor: &actor.name,
            version: inst.version + 1,
            input: serde_json::Value::Object(d.input.clone()),
            audit: (&stream, audit_seq, &audit_hash),
        };
        outbox::enqueue(self.conn, &change).await?;
        // Timers belong to states: a state without timers left none behind to cancel.
        let left_timers = def.state(&d.from).is_some_and(|s| !s.timers.is_empty());
        if d.restarts_timers && left_timers {
            timers::cancel_pending(self.conn, inst.id, self.now()).await?;
        }
        for t in &d.timers {
            timers::insert(self.conn, inst.id, t, self.now()).await?;
        }
        for order in &d.spawns {
            let (row, child_def) = self
                .registry
                .current(&order.definition)
                .ok_or_else(|| ApplyError::UnknownProcess(order.definition.clone()))?;
            let started = engine::spawned(child_def, order.data.clone(), self.ctx).map_err(ApplyError::Refused)?;
            self.insert_one(row, child_def, &started, Some((inst.id, fanouts)), &Actor::system(), "spawn", sums)
                .await?;
        }
        for event in &d.close_children {
            self.close_children(inst.id, event, pending, sums).await?;
        }
        if d.enters && def.state(&d.to).is_some_and(|s| s.join.is_some()) {
            pending.push_back(Pending::CheckJoin(inst.id));
        }
        if d.outcome.is_some()
            && let Some(parent) = inst.parent_id
        {
            pending.push_back(Pending::CheckJoin(parent));
        }
        let changed = InstanceRow {
            state: d.to,
            data: d.data,
            version: inst.version + 1,
            outcome: d.outcome.map(|o| o.as_str().to_owned()),
            fanouts,
            audit_seq,
            audit_hash,
            updated_at: self.now(),
            ..inst.clone()
        };
        let offset = self.ctx.offset;
        sums.change(Child::of(def, inst, offset).as_ref(), Child::of(def, &changed, offset).as_ref());
        Ok(changed)
    }

    /// Fires `event` as the engine on every child of `parent` still open, each with its own audit
    /// event, in the same transaction; a child whose state does not take the event is left as it is.
    async fn close_children(
        &self,
        parent: i64,
        event: &str,
        pending: &mut VecDeque<Pending>,
        sums: &mut summaries::Changes,
    ) -> Result<(), ApplyError> {
        for child in instances::children(self.conn, parent).await?.into_iter().filter(|c| c.outcome.is_none()) {
            let Some(child) = instances::lock(self.conn, child.id).await? else { continue };
            let def = self.registry.by_row(self.db, child.definition_id).await?;
            let system = Actor::system();
            if let Ok(decision) =
                engine::decide(&def, &child.state, &child.data, &system, event, &engine::Data::new(), self.ctx)
            {
                Box::pin(self.apply_one(&child, &def, decision, &system, "transition", pending, sums)).await?;
            }
        }
        Ok(())
    }

    /// Keeps in the parent's lists which children of the fan-out passed and which failed, each
    /// named by its `collect.field` (before the join's event is decided, so its guards see them).
    async fn collect_children(
        &self,
        parent: i64,
        fanout: i64,
        collect: &crate::definition::JoinCollect,
        data: &mut engine::Data,
    ) -> Result<(), ApplyError> {
        let (mut passed, mut failed) = (Vec::new(), Vec::new());
        for child in instances::fanout_children(self.conn, parent, fanout).await? {
            let Some(name) = child.data.get(&collect.field).filter(|v| !v.is_null()).cloned() else { continue };
            match child.outcome.as_deref() {
                Some("passed") => passed.push(name),
                Some("failed") => failed.push(name),
                _ => {}
            }
        }
        for (list, items) in [(&collect.passed, passed), (&collect.failed, failed)] {
            if let Some(list) = list {
                data.insert(list.clone(), serde_json::Value::Array(items));
            }
        }
        Ok(())
    }

    /// Decides the join of an instance, if it waits on one. The row is locked first, so two
    /// children finishing at once are counted one after the other: the second sees the first,
    /// and the join fires exactly once.
    async fn check_join(
        &self,
        id: i64,
        pending: &mut VecDeque<Pending>,
        sums: &mut summaries::Changes,
    ) -> Result<(), ApplyError> {
        let Some(inst) = instances::lock(self.conn, id).await? else {
            return Ok(());
        };
        let def = self.registry.by_row(self.db, inst.definition_id).await?;
        let Some(join) = def.state(&inst.state).and_then(|s| s.join.clone()) else {
            return Ok(());
        };
        let tally = instances::child_tally(self.conn, inst.id, inst.fanouts).await?;
        let JoinStatus::Decided(outcome) = engine::evaluate_join(&join, tally) else {
            return Ok(());
        };
        let event = if outcome == crate::definition::Outcome::Passed { &join.on_pass } else { &join.on_fail };
        let mut data = inst.data.clone();
        if let Some(collect) = &join.collect {
            self.collect_children(inst.id, inst.fanouts, collect, &mut data).await?;
        }
        let mut decision =
            engine::decide(&def, &inst.state, &data, &Actor::system(), event, &engine::Data::new(), self.ctx)
                .map_err(ApplyError::Refused)?;
        // What the join kept is what it was given: its audit event records the lists.
        if let Some(collect) = &join.collect {
            for list in collect.passed.iter().chain(&collect.failed) {
                if let Some(items) = data.get(list) {
                    decision.input.insert(list.clone(), items.clone());
                }
            }
        }
        self.apply_one(&inst, &def, decision, &Actor::system(), "join", pending, sums).await?;
        Ok(())
    }
}

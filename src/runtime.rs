//! The runtime: definitions, store and clock together. It reads an instance, asks the engine what
//! an event does, and has the store apply the decision in one transaction.

use std::sync::Arc;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};
use time::UtcOffset;

use crate::clock::Clock;
use crate::definition::{Definition, DefinitionSet};
use crate::engine::{self, Actor, Context, Data, EventOption, Refusal};
use crate::store::apply::{Applier, ApplyError};
use crate::store::audit::{self, NewEvent};
use crate::store::db::{Conn, begin_write};
use crate::store::definitions::{Registry, RegistryError};
use crate::store::instances::{self, InstanceRow};
use crate::store::timers::{self, TimerRow};
use crate::store::writer::{Target, Writer, on_target};
use futures_util::FutureExt;

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("no instance {0}")]
    NotFound(i64),
    #[error("no process {0:?}")]
    UnknownProcess(String),
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error(
        "instance {instance} was changed by someone else (it is at version {found}, not {expected}); reload and try again"
    )]
    Conflict { instance: i64, expected: i64, found: i64 },
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl From<ApplyError> for RuntimeError {
    fn from(e: ApplyError) -> Self {
        match e {
            ApplyError::Conflict { instance, expected, found } => RuntimeError::Conflict { instance, expected, found },
            ApplyError::Refused(r) => RuntimeError::Refused(r),
            ApplyError::UnknownProcess(p) => RuntimeError::UnknownProcess(p),
            ApplyError::Registry(r) => RuntimeError::Registry(r),
            ApplyError::Db(d) => RuntimeError::Db(d),
        }
    }
}

/// An instance with the definition version it runs on.
#[derive(Debug, Clone)]
pub struct Instance {
    pub row: InstanceRow,
    pub definition: Arc<Definition>,
}

/// The result of a fire: where the instance is now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fired {
    pub state: String,
    pub version: i64,
}

/// Cheap to clone (shared parts): a step queued for a shared commit carries its own runtime.
#[derive(Clone)]
pub struct Runtime {
    db: DatabaseConnection,
    /// On SQLite, where there is one writer anyway: fires and starts made at once share commits.
    writer: Option<Arc<Writer>>,
    recent: Arc<RecentRows>,
    registry: Arc<Registry>,
    clock: Arc<dyn Clock>,
    offset: UtcOffset,
}

impl Runtime {
    /// Stores new definition versions and returns a runtime over them, with every pending
    /// deadline computed again on the calendars they bring.
    pub async fn new(
        db: DatabaseConnection,
        set: DefinitionSet,
        clock: Arc<dyn Clock>,
        offset: UtcOffset,
    ) -> Result<Self, RuntimeError> {
        let registry = Registry::sync(&db, set, clock.now()).await?;
        // The calendars may have changed since the pending deadlines were computed.
        let moved = timers::recompute_deadlines(&db, &registry, offset, clock.now(), timers::RECOMPUTE_PAGE).await?;
        if moved > 0 {
            tracing::info!(moved, "pending deadlines computed again on the calendars loaded");
        }
        crate::store::summaries::fill_if_asked(&db, &registry, offset).await?;
        let writer = (db.get_database_backend() == sea_orm::DbBackend::Sqlite).then(|| Writer::new(db.clone()));
        Ok(Self { db, writer, recent: Arc::default(), registry: Arc::new(registry), clock, offset })
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }
    pub fn definitions(&self) -> &DefinitionSet {
        &self.registry.set
    }
    pub fn registry(&self) -> &Registry {
        &self.registry
    }
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }
    pub fn offset(&self) -> UtcOffset {
        self.offset
    }

    /// Today in the configured offset, by the runtime's clock.
    pub fn today(&self) -> time::Date {
        self.ctx().today()
    }

    fn ctx(&self) -> Context<'_> {
        Context { now: self.clock.now(), calendar: &self.registry.set.calendar, offset: self.offset, people: None }
    }

    /// The actor with the written delegations they hold today for this instance, and who holds
    /// the roles the definition's guards judge people by (with their delegates); nothing is read
    /// for a definition whose guards judge no one.
    async fn as_of_now<C: ConnectionTrait>(
        &self,
        conn: &C,
        def: &Definition,
        actor: &Actor,
        instance: i64,
        ctx: Context<'_>,
    ) -> Result<(Actor, Option<engine::PeopleFacts>), RuntimeError> {
        if !def.judges_people() || actor.is_system() {
            return Ok((actor.in_instance(instance), None));
        }
        let today = crate::definition::calendar::format_date(ctx.now.to_offset(ctx.offset).date());
        // A substitute holds none of the absent person's written delegations, nor uses their own
        // while doing another's work.
        let held = match actor.substituting {
            Some(_) => Vec::new(),
            None => crate::store::delegations::held(conn, &actor.name, &today).await?,
        };
        let actor = actor.clone().with_delegations(held).in_instance(instance);
        let roles = def.roles_judged();
        let people = if roles.is_empty() {
            None
        } else {
            Some(crate::store::delegations::facts(conn, &roles, Some(instance), &today).await?)
        };
        Ok((actor, people))
    }

    /// Who holds the roles `def` judges people by, and every delegation from them in force today
    /// (for any instance: narrow with `in_instance`), for the pages that list what may be done.
    pub async fn people_facts(&self, def: &Definition) -> Result<Option<engine::PeopleFacts>, RuntimeError> {
        let roles = def.roles_judged();
        if roles.is_empty() {
            return Ok(None);
        }
        let ctx = self.ctx();
        let today = crate::definition::calendar::format_date(ctx.now.to_offset(ctx.offset).date());
        Ok(Some(crate::store::delegations::facts(&self.db, &roles, None, &today).await?))
    }

    fn applier<'a, C: sea_orm::ConnectionTrait>(&'a self, conn: &'a C, ctx: Context<'a>) -> Applier<'a, C> {
        Applier { conn, db: &self.db, registry: &self.registry, ctx }
    }

    /// Starts an instance of `process` by hand.
    pub async fn start(&self, process: &str, actor: &Actor, given: &Data) -> Result<i64, RuntimeError> {
        let (rt, process, actor, given) = (self.clone(), process.to_owned(), actor.clone(), given.clone());
        self.write(move |target| {
            async move { on_target!(target, |conn| rt.start_in(conn, &process, &actor, &given).await) }.boxed()
        })
        .await?
    }

    /// Makes a change: on SQLite through the shared commit (see `store::writer`), so changes made
    /// at once share one commit and never wait for SQLite's write lock one by one; on PostgreSQL
    /// directly through the pool. The job owns what it needs: on SQLite it may outlive its caller.
    pub async fn write<T: Send + 'static>(
        &self,
        job: impl for<'c> FnOnce(Target<'c>) -> futures_util::future::BoxFuture<'c, T> + Send + 'static,
    ) -> Result<T, DbErr> {
        match &self.writer {
            Some(writer) => writer.run(job).await,
            None => Ok(job(Target::Pool(&self.db)).await),
        }
    }

    /// Starts an instance through `conn`: the pool, or a transaction the start then belongs to
    /// (it commits or rolls back with the caller's other changes).
    #[tracing::instrument(level = "debug", skip(self, conn, actor, given), fields(actor = %actor.name))]
    pub async fn start_in<C: Conn>(
        &self,
        conn: &C,
        process: &str,
        actor: &Actor,
        given: &Data,
    ) -> Result<i64, RuntimeError> {
        let (row, def) =
            self.registry.current(process).ok_or_else(|| RuntimeError::UnknownProcess(process.to_owned()))?;
        let ctx = self.ctx();
        let started = engine::start(def, actor, given, ctx)?;
        let txn = begin_write(conn).await?;
        let id = self.applier(&txn, ctx).insert_instance(row, def, &started, None, actor, "start").await?;
        txn.commit().await?;
        Ok(id)
    }

    pub async fn instance(&self, id: i64) -> Result<Instance, RuntimeError> {
        self.instance_in(&self.db, id).await
    }

    /// An instance as `conn` sees it (inside a transaction: with the transaction's own changes).
    pub async fn instance_in<C: ConnectionTrait>(&self, conn: &C, id: i64) -> Result<Instance, RuntimeError> {
        let row = instances::find(conn, id).await?.ok_or(RuntimeError::NotFound(id))?;
        let definition = self.registry.by_row(&self.db, row.definition_id).await?;
        Ok(Instance { row, definition })
    }

    /// What `actor` could fire on the instance now, each allowed or refused with the reason.
    pub async fn options(&self, id: i64, actor: &Actor) -> Result<Vec<(String, Option<Refusal>)>, RuntimeError> {
        let inst = self.instance(id).await?;
        self.options_on(&inst, actor).await
    }

    /// What `actor` could fire on the instance as it was read: the events and the state they are
    /// judged on are one version.
    pub async fn options_on(
        &self,
        inst: &Instance,
        actor: &Actor,
    ) -> Result<Vec<(String, Option<Refusal>)>, RuntimeError> {
        let id = inst.row.id;
        let people = self.people_facts(&inst.definition).await?.map(|f| f.in_instance(id));
        Ok(engine::options(
            &inst.definition,
            &inst.row.state,
            &inst.row.data,
            &actor.in_instance(id),
            people.as_ref(),
            self.today(),
        )
        .into_iter()
        .map(|EventOption { transition, refusal }| (transition.event.clone(), refusal))
        .collect())
    }

    /// Fires `event` on an instance. With `expected_version`, a change since the caller read the
    /// instance is a conflict rather than a surprise.
    pub async fn fire(
        &self,
        id: i64,
        expected_version: Option<i64>,
        actor: &Actor,
        event: &str,
        given: &Data,
    ) -> Result<Fired, RuntimeError> {
        self.fire_as(id, expected_version, actor, None, event, given).await
    }

    /// Fires `event` as `actor`, or, with `for_absent`, as `actor` standing in for that person:
    /// the substitution is read inside the step's write, so one ended a moment before is
    /// refused, with the reason.
    pub async fn fire_as(
        &self,
        id: i64,
        expected_version: Option<i64>,
        actor: &Actor,
        for_absent: Option<&str>,
        event: &str,
        given: &Data,
    ) -> Result<Fired, RuntimeError> {
        let (rt, actor, event, given) = (self.clone(), actor.clone(), event.to_owned(), given.clone());
        let for_absent = for_absent.map(str::to_owned);
        self.write(move |target| {
            async move {
                let absent = for_absent.as_deref();
                on_target!(target, |conn| rt
                    .fire_in_as(conn, id, expected_version, &actor, absent, &event, &given)
                    .await)
            }
            .boxed()
        })
        .await?
    }

    /// Fires through `conn`: the pool, or a transaction the step then belongs to.
    pub async fn fire_in<C: Conn>(
        &self,
        conn: &C,
        id: i64,
        expected_version: Option<i64>,
        actor: &Actor,
        event: &str,
        given: &Data,
    ) -> Result<Fired, RuntimeError> {
        self.fire_in_as(conn, id, expected_version, actor, None, event, given).await
    }

    #[expect(clippy::too_many_arguments, reason = "fire_in's arguments and the person stood in for")]
    async fn fire_in_as<C: Conn>(
        &self,
        conn: &C,
        id: i64,
        expected_version: Option<i64>,
        actor: &Actor,
        for_absent: Option<&str>,
        event: &str,
        given: &Data,
    ) -> Result<Fired, RuntimeError> {
        self.fire_attached_in(conn, id, expected_version, actor, for_absent, event, given, None).await
    }

    /// Fires a step that may carry a file, stored in `conn` (the transaction the file was
    /// written in): the engine judges whether the step takes it, and the step's audit event
    /// records it. `for_absent`: the person a substitute acts for.
    #[expect(clippy::too_many_arguments, reason = "a fire's inputs, the person stood in for and the file")]
    #[tracing::instrument(level = "debug", skip(self, conn, actor, given, attached), fields(actor = %actor.name))]
    pub async fn fire_attached_in<C: Conn>(
        &self,
        conn: &C,
        id: i64,
        expected_version: Option<i64>,
        actor: &Actor,
        for_absent: Option<&str>,
        event: &str,
        given: &Data,
        attached: Option<&engine::Attached>,
    ) -> Result<Fired, RuntimeError> {
        // The row this process last wrote saves a read. It is only a guess: the version check
        // of the update decides, and whatever a guess led to — a conflict, or a refusal that a
        // stale state could explain — is decided again on the row read afresh.
        let cached = self.recent.get(id).filter(|row| expected_version.is_none_or(|v| v == row.version));
        let from_cache = cached.is_some();
        let row = match cached {
            Some(row) => row,
            None => instances::find(conn, id).await?.ok_or(RuntimeError::NotFound(id))?,
        };
        let mut result = self.fire_on(conn, row, expected_version, actor, for_absent, event, given, attached).await;
        if from_cache && matches!(result, Err(RuntimeError::Conflict { .. } | RuntimeError::Refused(_))) {
            self.recent.forget(id);
            let row = instances::find(conn, id).await?.ok_or(RuntimeError::NotFound(id))?;
            result = self.fire_on(conn, row, expected_version, actor, for_absent, event, given, attached).await;
        }
        // Without a version the caller asked for the step on whatever the instance is: a change
        // that came first is not a conflict to them, and the step is decided again on it.
        // With a version, a change of the chain's head alone (a comment) is not a change of what
        // the caller read: decided again on the row as it is, too.
        let mut attempts = 1;
        while attempts < UNVERSIONED_ATTEMPTS
            && match &result {
                Err(RuntimeError::Conflict { expected, found, .. }) => expected_version.is_none() || expected == found,
                _ => false,
            }
        {
            attempts += 1;
            self.recent.forget(id);
            let row = instances::find(conn, id).await?.ok_or(RuntimeError::NotFound(id))?;
            result = self.fire_on(conn, row, expected_version, actor, for_absent, event, given, attached).await;
        }
        result
    }

    #[expect(clippy::too_many_arguments, reason = "a fire's inputs, the person stood in for and the file")]
    async fn fire_on<C: Conn>(
        &self,
        conn: &C,
        row: InstanceRow,
        expected_version: Option<i64>,
        actor: &Actor,
        for_absent: Option<&str>,
        event: &str,
        given: &Data,
        attached: Option<&engine::Attached>,
    ) -> Result<Fired, RuntimeError> {
        if let Some(expected) = expected_version
            && expected != row.version
        {
            return Err(RuntimeError::Conflict { instance: row.id, expected, found: row.version });
        }
        let definition = self.registry.by_row(&self.db, row.definition_id).await?;
        let ctx = self.ctx();
        let txn = begin_write(conn).await?;
        // Who the actor acts for and who holds the roles the guards judge by are read inside the
        // write: a delegation revoked a moment before is seen, and one for another round is not.
        // A substitute acts in the absent person's roles and units as they are now, under a
        // substitution in force now: both read here, never taken from the caller.
        let standing_in;
        let actor = match for_absent {
            None => actor,
            Some(absent) => {
                match crate::people::standing_in::actor_for(&txn, &actor.name, absent, ctx.today(), self.offset).await?
                {
                    Ok(a) => standing_in = a,
                    Err(gap) => return Err(Refusal::NotSubstitute { absent: absent.to_owned(), gap }.into()),
                }
                &standing_in
            }
        };
        let (actor, people) = self.as_of_now(&txn, &definition, actor, row.id, ctx).await?;
        let judged = Context { people: people.as_ref(), ..ctx };
        let decision =
            engine::decide_attached(&definition, &row.state, &row.data, &actor, event, given, attached, judged)?;
        let updated = self.applier(&txn, ctx).apply(&row, &definition, decision, &actor, "transition").await?;
        if let Some(file) = attached {
            crate::store::attachments::link_step(&txn, file.id, updated.audit_seq).await?;
        }
        txn.commit().await?;
        let fired = Fired { state: updated.state.clone(), version: updated.version };
        self.recent.put(updated);
        Ok(fired)
    }

    /// Fires every timer that is due, earliest first, each in its own transaction; returns how
    /// many fired. A timer whose event is no longer allowed is closed as refused, with the
    /// reason in the audit trail.
    pub async fn fire_due_timers(&self) -> Result<usize, RuntimeError> {
        let mut fired = 0;
        loop {
            let ctx = self.ctx();
            let txn = begin_write(&self.db).await?;
            let Some(timer) = timers::claim_due(&txn, ctx.now).await? else {
                txn.commit().await?;
                return Ok(fired);
            };
            let inst =
                instances::lock(&txn, timer.instance_id).await?.ok_or(RuntimeError::NotFound(timer.instance_id))?;
            let def = self.registry.by_row(&self.db, inst.definition_id).await?;
            let system = Actor::system();
            // What a timer sets off happens when it fell due, however late the scheduler runs
            // (after downtime): the dates it stamps and the periods it starts count from then.
            // The audit trail still records when it ran.
            let at_due = Context { now: timer.due_at.min(ctx.now), ..ctx };
            let refusal =
                match engine::decide(&def, &inst.state, &inst.data, &system, &timer.event, &Data::new(), at_due) {
                    Ok(decision) => {
                        match self.applier(&txn, ctx).apply(&inst, &def, decision, &system, "timer").await {
                            Ok(after) => {
                                self.schedule_next(&txn, &def, &inst.state, &timer, &after, ctx).await?;
                                None
                            }
                            // What the timer set off was refused further on (a join's event, a child's
                            // start): nothing of it is kept, and the timer is closed with the reason
                            // rather than tried again forever.
                            Err(ApplyError::Refused(r)) => Some(r.to_string()),
                            Err(ApplyError::UnknownProcess(p)) => {
                                Some(format!("fan-out to {p:?}, which is not loaded"))
                            }
                            Err(other) => return Err(other.into()),
                        }
                    }
                    Err(refusal) => Some(refusal.to_string()),
                };
            match refusal {
                None => txn.commit().await?,
                Some(reason) => {
                    txn.rollback().await?;
                    self.close_refused_timer(timer, reason, ctx).await?;
                }
            }
            fired += 1;
        }
    }

    /// A recurring timer that fell due in `state` falls due again a period later, counted from
    /// its base, while the instance (`now`, as the timer's step left it) is still in that state
    /// and the step did not start the state's timers afresh, within its `until` and `count`.
    async fn schedule_next<C: ConnectionTrait>(
        &self,
        conn: &C,
        def: &Definition,
        state: &str,
        timer: &TimerRow,
        now: &InstanceRow,
        ctx: Context<'_>,
    ) -> Result<(), RuntimeError> {
        let Some(spec) = def.state(state).and_then(|s| s.timers.iter().find(|t| t.id == timer.name)) else {
            return Ok(());
        };
        if spec.repeat.is_none() || now.state != state {
            return Ok(());
        }
        if timers::pending_for(conn, timer.instance_id).await?.iter().any(|t| t.name == timer.name) {
            return Ok(());
        }
        let base = timer.base.as_deref().and_then(crate::definition::calendar::parse_date);
        let base = base.unwrap_or_else(|| timer.due_at.to_offset(ctx.offset).date());
        let n = u32::try_from(timer.occurrence).unwrap_or(1);
        let calendar = &self.registry.set.calendar;
        if let Some(next) = engine::next_occurrence(spec, base, n, &now.data, calendar, ctx.offset) {
            timers::insert(conn, timer.instance_id, &next, ctx.now).await?;
        }
        Ok(())
    }

    /// Closes a due timer whose event was not allowed, with the reason in the audit trail.
    async fn close_refused_timer(&self, timer: TimerRow, reason: String, ctx: Context<'_>) -> Result<(), RuntimeError> {
        let txn = begin_write(&self.db).await?;
        if !timers::close_if_pending(&txn, timer.id, timers::REFUSED).await? {
            return Ok(());
        }
        let inst = instances::lock(&txn, timer.instance_id).await?.ok_or(RuntimeError::NotFound(timer.instance_id))?;
        let system = Actor::system();
        let sealed = audit::seal(
            NewEvent {
                stream: audit::instance_stream(inst.id),
                at: ctx.now,
                actor: &system.name,
                kind: "timer_refused",
                process: Some(&inst.process),
                instance_id: Some(inst.id),
                event: Some(&timer.event),
                from_state: Some(&inst.state),
                to_state: Some(&inst.state),
                data: serde_json::json!({ "timer": timer.name, "reason": reason }),
            },
            inst.audit_head(),
        );
        instances::advance_audit_head(&txn, inst.id, sealed.record.seq, &sealed.hash).await?;
        audit::insert(&txn, sealed).await?;
        // A refused occurrence does not end a schedule: the next one still falls due.
        let def = self.registry.by_row(&self.db, inst.definition_id).await?;
        self.schedule_next(&txn, &def, &inst.state, &timer, &inst, ctx).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Whether `actor` may read the instance: they act in it, or its definition lets those who act
    /// in its parent or in one of its children read it (not further: readers of readers do not).
    pub async fn may_read(&self, actor: &Actor, inst: &Instance) -> Result<bool, RuntimeError> {
        if actor.may_view(&inst.definition, &inst.row.data) {
            return Ok(true);
        }
        for reader in &inst.definition.read_by {
            match reader {
                crate::definition::Reader::Parent => {
                    if let Some(parent) = inst.row.parent_id {
                        let parent = self.instance(parent).await?;
                        let (child, data) = (&inst.definition, &inst.row.data);
                        if actor.may_read_child(child, data, &parent.definition, &parent.row.data) {
                            return Ok(true);
                        }
                    }
                }
                crate::definition::Reader::Children => {
                    for child in self.children(inst.row.id).await? {
                        let def = self.registry.by_row(&self.db, child.definition_id).await?;
                        if actor.may_view(&def, &child.data) {
                            return Ok(true);
                        }
                    }
                }
            }
        }
        Ok(false)
    }

    pub async fn children(&self, id: i64) -> Result<Vec<InstanceRow>, RuntimeError> {
        self.children_in(&self.db, id).await
    }

    pub async fn children_in<C: ConnectionTrait>(&self, conn: &C, id: i64) -> Result<Vec<InstanceRow>, RuntimeError> {
        Ok(instances::children(conn, id).await?)
    }

    pub async fn timers(&self, id: i64) -> Result<Vec<TimerRow>, RuntimeError> {
        Ok(timers::pending_for(&self.db, id).await?)
    }

    pub async fn history(&self, id: i64) -> Result<Vec<audit::AuditRow>, RuntimeError> {
        Ok(audit::stream(&self.db, &audit::instance_stream(id)).await?)
    }
}

/// How many times a fire without a version is decided again after others changed the instance
/// first: enough for a burst of writers on one instance, bounded so none waits forever.
const UNVERSIONED_ATTEMPTS: usize = 20;

/// The rows this process wrote last, by instance: a hint that spares a read before a fire. Never
/// trusted: the optimistic version check in the database has the last word.
#[derive(Default)]
struct RecentRows(std::sync::Mutex<std::collections::HashMap<i64, InstanceRow>>);

/// Enough for every instance being worked on at once; past it the hint simply starts over.
const RECENT_ROWS: usize = 4096;

impl RecentRows {
    fn get(&self, id: i64) -> Option<InstanceRow> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).get(&id).cloned()
    }
    fn put(&self, row: InstanceRow) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= RECENT_ROWS {
            map.clear();
        }
        map.insert(row.id, row);
    }
    fn forget(&self, id: i64) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).remove(&id);
    }
}

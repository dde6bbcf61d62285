use std::collections::{BTreeMap, BTreeSet};

use crate::definition::{Definition, SYSTEM_ROLE, ScopeMatch};
use crate::engine::input::Data;

/// Who fires an event: a person with roles and the units they act for, or the engine itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub name: String,
    pub roles: BTreeSet<String>,
    /// The units each role acts for. A unit belongs to the grant that named it: a bureau
    /// reviewer for u09 is not thereby u09's unit secretary.
    pub units: BTreeMap<String, BTreeSet<String>>,
    /// The written delegations the actor holds today: where one applies, they act as the person
    /// who gave it (a chief representative's signature, Art. 20).
    pub delegations: Vec<Delegated>,
    /// When the actor stands in for someone away: whose work they do, and by which substitution.
    /// They then act in the absent person's roles and units, never as that person (see
    /// [`Actor::acts_for`]).
    pub substituting: Option<Substituting>,
}

/// A substitution the actor acts under: `absent` is away, substitution `id` names the actor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Substituting {
    pub absent: String,
    pub id: i64,
}

/// What the engine may know of other people when it decides: who holds a role, and who holds a
/// written delegation from whom today. The runtime reads it for definitions that ask
/// (`role_or_delegate`); a decision made without it cannot judge such a guard and lets it hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeopleFacts {
    /// Role → the active people who hold it.
    pub holders: BTreeMap<String, BTreeSet<String>>,
    /// (from, to, for which instance, if one) of every written delegation in force.
    pub delegations: Vec<(String, String, Option<i64>)>,
}

impl PeopleFacts {
    /// The facts as they bear on instance `id`: delegations for other instances left out.
    pub fn in_instance(&self, id: i64) -> PeopleFacts {
        let mut facts = self.clone();
        facts.delegations.retain(|(_, _, instance)| instance.is_none_or(|i| i == id));
        facts
    }

    /// Whether `person` holds `role`, or a written delegation from someone who does.
    pub fn holds_or_delegated(&self, person: &str, role: &str) -> bool {
        let Some(holders) = self.holders.get(role) else { return false };
        holders.contains(person) || self.delegations.iter().any(|(from, to, _)| to == person && holders.contains(from))
    }
}

/// A written delegation held: `from` handed their role to the holder, by letter `id`, for one
/// instance (a round) or for every instance while it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delegated {
    pub id: i64,
    pub from: String,
    pub instance: Option<i64>,
}

impl Actor {
    pub fn new<R: Into<String>>(name: impl Into<String>, roles: impl IntoIterator<Item = R>) -> Self {
        Self {
            name: name.into(),
            roles: roles.into_iter().map(Into::into).collect(),
            units: BTreeMap::new(),
            delegations: Vec::new(),
            substituting: None,
        }
    }

    /// `name` standing in for `absent` (the absent person's actor, as their grants make it) under
    /// substitution `id`: their roles and units, none of their written delegations, and not
    /// their person (a chain of substitutes is not followed: `absent`'s own standing-in is not
    /// carried over).
    pub fn standing_in(name: impl Into<String>, absent: &Actor, id: i64) -> Self {
        Self {
            name: name.into(),
            roles: absent.roles.clone(),
            units: absent.units.clone(),
            delegations: Vec::new(),
            substituting: Some(Substituting { absent: absent.name.clone(), id }),
        }
    }

    /// Whose work the actor does: their own, or the absent person's they stand in for.
    pub fn person(&self) -> &str {
        self.substituting.as_ref().map_or(&self.name, |s| &s.absent)
    }

    /// Whether `person` is the actor or the one they stand in for: "four eyes" rules keep both
    /// out.
    pub fn is_or_stands_in_for(&self, person: &str) -> bool {
        self.name == person || self.substituting.as_ref().is_some_and(|s| s.absent == person)
    }

    /// The actor holding these written delegations.
    pub fn with_delegations(mut self, delegations: Vec<Delegated>) -> Self {
        self.delegations = delegations;
        self
    }

    /// The actor as they act on instance `id`: the delegations for another instance left out.
    pub fn in_instance(&self, id: i64) -> Actor {
        let mut actor = self.clone();
        actor.delegations.retain(|d| d.instance.is_none_or(|i| i == id));
        actor
    }

    /// Whether the actor acts as `person`: they are that person (`Some(None)`), or hold that
    /// person's written delegation (`Some(Some(letter))`).
    /// A substitute acts as nobody: not as the absent person (a signature is theirs or their
    /// written delegate's), and not as themselves while doing another's work.
    pub fn acts_for(&self, person: &str) -> Option<Option<i64>> {
        if self.substituting.is_some() {
            return None;
        }
        if self.name == person {
            return Some(None);
        }
        self.delegations.iter().find(|d| d.from == person).map(|d| Some(d.id))
    }

    /// Every role of the actor acts for these units (an actor with one role, as tests build them).
    pub fn with_units<U: Into<String>>(mut self, units: impl IntoIterator<Item = U>) -> Self {
        let units: BTreeSet<String> = units.into_iter().map(Into::into).collect();
        self.units = self.roles.iter().map(|r| (r.clone(), units.clone())).collect();
        self
    }

    /// The actor acts in `role` for `unit` (one grant).
    pub fn with_grant(mut self, role: impl Into<String>, unit: impl Into<String>) -> Self {
        let role = role.into();
        self.roles.insert(role.clone());
        self.units.entry(role).or_default().insert(unit.into());
        self
    }

    /// The engine itself, which fires timers and joins.
    pub fn system() -> Self {
        Self::new(SYSTEM_ROLE, [SYSTEM_ROLE])
    }

    pub fn is_system(&self) -> bool {
        self.roles.contains(SYSTEM_ROLE)
    }

    /// Whether the actor may act in `role` on an instance with `data`: they hold the role, and
    /// the definition's scope for that role (if any) matches them.
    pub fn acts_as(&self, def: &Definition, data: &Data, role: &str) -> bool {
        if !self.roles.contains(role) {
            return false;
        }
        def.scopes.iter().filter(|s| s.role == role).all(|scope| {
            let Some(value) = data.get(&scope.field).and_then(|v| v.as_str()) else {
                return false;
            };
            match scope.matches {
                ScopeMatch::Unit => self.units.get(role).is_some_and(|units| units.contains(value)),
                ScopeMatch::Person => self.person() == value,
            }
        })
    }

    /// Whether the actor may see instances of a definition with this data: they can act in it in
    /// some role (within its scope), now or at another stage.
    pub fn may_view(&self, def: &Definition, data: &Data) -> bool {
        let named: BTreeSet<&String> = def
            .transitions
            .iter()
            .flat_map(|t| t.roles.iter())
            .chain(def.start.iter().flat_map(|s| s.roles.iter()))
            .filter(|r| *r != SYSTEM_ROLE)
            .collect();
        named.into_iter().any(|r| self.acts_as(def, data, r))
    }

    /// Whether the actor may read a child instance of a parent whose data is `parent_data`: they
    /// may see the child itself, or the child is read by its parent's participants
    /// (`read_by = ["parent"]`) and they see the parent.
    pub fn may_read_child(
        &self,
        child: &Definition,
        child_data: &Data,
        parent: &Definition,
        parent_data: &Data,
    ) -> bool {
        self.may_view(child, child_data)
            || (child.read_by.contains(&crate::definition::Reader::Parent) && self.may_view(parent, parent_data))
    }

    /// Whether the actor may act in at least one of `roles`.
    pub fn acts_as_any(&self, def: &Definition, data: &Data, roles: &[String]) -> bool {
        roles.iter().any(|r| self.acts_as(def, data, r))
    }
}

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
}

impl Actor {
    pub fn new<R: Into<String>>(name: impl Into<String>, roles: impl IntoIterator<Item = R>) -> Self {
        Self { name: name.into(), roles: roles.into_iter().map(Into::into).collect(), units: BTreeMap::new() }
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
                ScopeMatch::Person => self.name == value,
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

//! The lifecycle of domains and types: deprecate, undeprecate, delete (SWF's rules: a
//! deprecated type can be neither scheduled nor started; only a deprecated type can be
//! deleted; undeprecating a domain leaves its types as they are).

use super::{fault, missing, obj, req_s, Obj, Res, State, TypeInfo};
use crate::swf::wire::{Fault, WireError};
use serde_json::json;

/// Which kind of type an operation works on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Activity,
    Workflow,
}

impl Kind {
    fn member(self) -> &'static str {
        match self {
            Kind::Activity => "activityType",
            Kind::Workflow => "workflowType",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Kind::Activity => "ActivityType",
            Kind::Workflow => "WorkflowType",
        }
    }
}

impl State {
    /// The type a lifecycle request names (`domain` and `activityType`/`workflowType`),
    /// with its `Kind=[name=N, version=V]` label.
    fn type_mut(&mut self, b: &Obj, kind: Kind) -> Result<(&mut TypeInfo, String), WireError> {
        let domain = req_s(b, "domain")?;
        let t = obj(b, kind.member()).ok_or_else(|| missing(kind.member()))?;
        let (name, version) = (req_s(t, "name")?, req_s(t, "version")?);
        let label = format!("{}=[name={name}, version={version}]", kind.label());
        let d = self.domain_mut(domain)?;
        let map = match kind {
            Kind::Activity => &mut d.activity_types,
            Kind::Workflow => &mut d.workflow_types,
        };
        match map.get_mut(&(name.to_owned(), version.to_owned())) {
            Some(info) => Ok((info, label)),
            None => Err(fault(
                Fault::UnknownResourceFault,
                format!("Unknown type: {label}"),
            )),
        }
    }

    fn deprecate_type(&mut self, b: &Obj, now: f64, kind: Kind) -> Res {
        let (t, label) = self.type_mut(b, kind)?;
        if t.deprecated {
            return Err(fault(Fault::TypeDeprecatedFault, label));
        }
        t.deprecated = true;
        t.deprecation = Some(now);
        Ok(json!({}))
    }

    fn undeprecate_type(&mut self, b: &Obj, kind: Kind) -> Res {
        let (t, label) = self.type_mut(b, kind)?;
        if !t.deprecated {
            return Err(fault(Fault::TypeAlreadyExistsFault, label));
        }
        t.deprecated = false;
        t.deprecation = None;
        Ok(json!({}))
    }

    fn delete_type(&mut self, b: &Obj, kind: Kind) -> Res {
        let (t, label) = self.type_mut(b, kind)?;
        if !t.deprecated {
            return Err(fault(Fault::TypeNotDeprecatedFault, label));
        }
        let key = (t.name.clone(), t.version.clone());
        let d = self.domain_mut(req_s(b, "domain")?)?;
        match kind {
            Kind::Activity => d.activity_types.remove(&key),
            Kind::Workflow => d.workflow_types.remove(&key),
        };
        Ok(json!({}))
    }

    /// DeprecateActivityType: `TypeDeprecatedFault` if it already is.
    pub fn deprecate_activity_type(&mut self, b: &Obj, now: f64) -> Res {
        self.deprecate_type(b, now, Kind::Activity)
    }

    /// DeprecateWorkflowType: `TypeDeprecatedFault` if it already is.
    pub fn deprecate_workflow_type(&mut self, b: &Obj, now: f64) -> Res {
        self.deprecate_type(b, now, Kind::Workflow)
    }

    /// UndeprecateActivityType: `TypeAlreadyExistsFault` if it is registered.
    pub fn undeprecate_activity_type(&mut self, b: &Obj) -> Res {
        self.undeprecate_type(b, Kind::Activity)
    }

    /// UndeprecateWorkflowType: `TypeAlreadyExistsFault` if it is registered.
    pub fn undeprecate_workflow_type(&mut self, b: &Obj) -> Res {
        self.undeprecate_type(b, Kind::Workflow)
    }

    /// DeleteActivityType: only a deprecated type (`TypeNotDeprecatedFault`); it is
    /// gone afterwards (`UnknownResourceFault`).
    pub fn delete_activity_type(&mut self, b: &Obj) -> Res {
        self.delete_type(b, Kind::Activity)
    }

    /// DeleteWorkflowType: only a deprecated type (`TypeNotDeprecatedFault`).
    pub fn delete_workflow_type(&mut self, b: &Obj) -> Res {
        self.delete_type(b, Kind::Workflow)
    }

    /// UndeprecateDomain: `DomainAlreadyExistsFault` if it is registered. Its types stay
    /// as they are (each deprecated one needs its own undeprecation).
    pub fn undeprecate_domain(&mut self, b: &Obj) -> Res {
        let d = self.domain_mut(req_s(b, "name")?)?;
        if !d.deprecated {
            return Err(fault(Fault::DomainAlreadyExistsFault, d.name.clone()));
        }
        d.deprecated = false;
        Ok(json!({}))
    }
}

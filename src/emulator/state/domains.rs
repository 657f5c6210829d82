//! Domains and their types: registration, description, listing, deprecation.

use super::*;

impl State {
    /// RegisterDomain.
    pub fn register_domain(&mut self, b: &Obj) -> Res {
        let name = req_s(b, "name")?;
        check_name("domain name", name)?;
        let retention = req_s(b, "workflowExecutionRetentionPeriodInDays")?;
        let ok = retention == "NONE"
            || (retention.len() <= 8 && retention.parse::<u32>().is_ok_and(|d| d <= 90));
        if !ok {
            return Err(validation(format!(
                "Invalid workflowExecutionRetentionPeriodInDays `{retention}`: \"0\" to \"90\" or \"NONE\""
            )));
        }
        max_len(b, "description", 1024)?;
        let tags = tags::tag_list(b, "tags")?;
        if tags.len() > tags::MAX_TAGS {
            return Err(fault(
                Fault::TooManyTagsFault,
                format!("A domain can have at most {} tags", tags::MAX_TAGS),
            ));
        }
        if self.domains.contains_key(name) {
            return Err(fault(Fault::DomainAlreadyExistsFault, name));
        }
        self.domains.insert(
            name.to_owned(),
            Domain {
                name: name.to_owned(),
                deprecated: false,
                description: s(b, "description").map(str::to_owned),
                retention: retention.to_owned(),
                tags,
                activity_types: BTreeMap::new(),
                workflow_types: BTreeMap::new(),
            },
        );
        Ok(json!({}))
    }

    pub(super) fn domain_info(&self, d: &Domain) -> Value {
        let mut v = json!({
            "name": d.name,
            "status": if d.deprecated { "DEPRECATED" } else { "REGISTERED" },
            "arn": self.domain_arn(&d.name),
        });
        if let Some(desc) = &d.description {
            v["description"] = json!(desc);
        }
        v
    }

    /// DescribeDomain.
    pub fn describe_domain(&self, b: &Obj) -> Res {
        let d = self.domain(req_s(b, "name")?)?;
        Ok(json!({
            "domainInfo": self.domain_info(d),
            "configuration": {"workflowExecutionRetentionPeriodInDays": d.retention},
        }))
    }

    /// ListDomains.
    pub fn list_domains(&self, b: &Obj) -> Res {
        let status = req_s(b, "registrationStatus")?;
        if status != "REGISTERED" && status != "DEPRECATED" {
            return Err(validation(
                "registrationStatus must be REGISTERED or DEPRECATED",
            ));
        }
        let list: Vec<Value> = self
            .domains
            .values()
            .filter(|d| d.deprecated == (status == "DEPRECATED"))
            .map(|d| self.domain_info(d))
            .collect();
        paged(list, b, "domainInfos")
    }

    /// DeprecateDomain: its types are deprecated with it.
    pub fn deprecate_domain(&mut self, b: &Obj, now: f64) -> Res {
        let d = self.domain_mut(req_s(b, "name")?)?;
        if d.deprecated {
            return Err(fault(Fault::DomainDeprecatedFault, d.name.clone()));
        }
        d.deprecated = true;
        for t in d
            .activity_types
            .values_mut()
            .chain(d.workflow_types.values_mut())
        {
            if !t.deprecated {
                t.deprecated = true;
                t.deprecation = Some(now);
            }
        }
        Ok(json!({}))
    }

    // ----- types -----

    pub(super) fn register_type(&mut self, b: &Obj, now: f64, activity: bool) -> Res {
        let domain = req_s(b, "domain")?;
        let name = req_s(b, "name")?;
        check_name("name", name)?;
        let version = req_s(b, "version")?;
        if version.is_empty() || version.chars().count() > 64 {
            return Err(validation("version must have 1 to 64 characters"));
        }
        max_len(b, "description", 1024)?;
        let fields: &[&str] = if activity {
            &[
                "defaultTaskStartToCloseTimeout",
                "defaultTaskHeartbeatTimeout",
                "defaultTaskScheduleToStartTimeout",
                "defaultTaskScheduleToCloseTimeout",
            ]
        } else {
            &[
                "defaultTaskStartToCloseTimeout",
                "defaultExecutionStartToCloseTimeout",
            ]
        };
        for f in fields {
            if let Some(v) = s(b, f) {
                parse_timeout(f, v)?;
            }
        }
        let d = self.domain_mut(domain)?;
        if d.deprecated {
            return Err(fault(Fault::DomainDeprecatedFault, d.name.clone()));
        }
        let key = (name.to_owned(), version.to_owned());
        let map = if activity {
            &mut d.activity_types
        } else {
            &mut d.workflow_types
        };
        if map.contains_key(&key) {
            let kind = if activity {
                "ActivityType"
            } else {
                "WorkflowType"
            };
            return Err(fault(
                Fault::TypeAlreadyExistsFault,
                format!("{kind}=[name={name}, version={version}]"),
            ));
        }
        let mut config = b.clone();
        for k in ["domain", "name", "version", "description"] {
            config.remove(k);
        }
        map.insert(
            key,
            TypeInfo {
                name: name.to_owned(),
                version: version.to_owned(),
                description: s(b, "description").map(str::to_owned),
                deprecated: false,
                creation: now,
                deprecation: None,
                config,
            },
        );
        Ok(json!({}))
    }

    /// RegisterActivityType.
    pub fn register_activity_type(&mut self, b: &Obj, now: f64) -> Res {
        self.register_type(b, now, true)
    }

    /// RegisterWorkflowType.
    pub fn register_workflow_type(&mut self, b: &Obj, now: f64) -> Res {
        self.register_type(b, now, false)
    }

    pub(super) fn type_info_json(t: &TypeInfo, activity: bool) -> Value {
        let key = if activity {
            "activityType"
        } else {
            "workflowType"
        };
        let mut v = json!({
            key: {"name": t.name, "version": t.version},
            "status": if t.deprecated { "DEPRECATED" } else { "REGISTERED" },
            "creationDate": t.creation,
        });
        if let Some(d) = &t.description {
            v["description"] = json!(d);
        }
        if let Some(d) = t.deprecation {
            v["deprecationDate"] = json!(d);
        }
        v
    }

    pub(super) fn describe_type(&self, b: &Obj, activity: bool) -> Res {
        let key_name = if activity {
            "activityType"
        } else {
            "workflowType"
        };
        let d = self.domain(req_s(b, "domain")?)?;
        let t = obj(b, key_name).ok_or_else(|| missing(key_name))?;
        let (name, version) = (req_s(t, "name")?, req_s(t, "version")?);
        let map = if activity {
            &d.activity_types
        } else {
            &d.workflow_types
        };
        let kind = if activity {
            "ActivityType"
        } else {
            "WorkflowType"
        };
        let info = map
            .get(&(name.to_owned(), version.to_owned()))
            .ok_or_else(|| {
                fault(
                    Fault::UnknownResourceFault,
                    format!("Unknown type: {kind}=[name={name}, version={version}]"),
                )
            })?;
        Ok(json!({"typeInfo": Self::type_info_json(info, activity), "configuration": info.config}))
    }

    /// DescribeActivityType.
    pub fn describe_activity_type(&self, b: &Obj) -> Res {
        self.describe_type(b, true)
    }

    /// DescribeWorkflowType.
    pub fn describe_workflow_type(&self, b: &Obj) -> Res {
        self.describe_type(b, false)
    }

    pub(super) fn list_types(&self, b: &Obj, activity: bool) -> Res {
        let d = self.domain(req_s(b, "domain")?)?;
        let status = req_s(b, "registrationStatus")?;
        let map = if activity {
            &d.activity_types
        } else {
            &d.workflow_types
        };
        let list: Vec<Value> = map
            .values()
            .filter(|t| t.deprecated == (status == "DEPRECATED"))
            .filter(|t| s(b, "name").is_none_or(|n| n == t.name))
            .map(|t| Self::type_info_json(t, activity))
            .collect();
        paged(list, b, "typeInfos")
    }

    /// ListActivityTypes.
    pub fn list_activity_types(&self, b: &Obj) -> Res {
        self.list_types(b, true)
    }

    /// ListWorkflowTypes.
    pub fn list_workflow_types(&self, b: &Obj) -> Res {
        self.list_types(b, false)
    }
}

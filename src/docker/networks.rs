//! Networks: find, create with a fixed subnet, and list every subnet in use so that the
//! engine can tell the user about overlaps before the daemon does.

use std::collections::HashMap;

use bollard::models::{Ipam, IpamConfig, NetworkCreateRequest};
use bollard::query_parameters::ListNetworksOptions;

use super::{Daemon, Lookup};
use crate::error::Result;

#[derive(Debug, Clone)]
pub struct NetworkInfo {
    pub name: String,
    pub id: String,
    pub subnets: Vec<String>,
    pub labels: HashMap<String, String>,
}

impl Lookup {
    pub async fn networks(&self) -> Result<Vec<NetworkInfo>> {
        let list = self
            .api
            .list_networks(None::<ListNetworksOptions>)
            .await
            .map_err(|e| self.err("listing networks", e))?;
        Ok(list
            .into_iter()
            .map(|n| NetworkInfo {
                name: n.name.unwrap_or_default(),
                id: n.id.unwrap_or_default(),
                subnets: n
                    .ipam
                    .and_then(|i| i.config)
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|c| c.subnet)
                    .collect(),
                labels: n.labels.unwrap_or_default(),
            })
            .collect())
    }
}

impl Daemon {
    pub async fn create_network(
        &self,
        name: &str,
        subnet: &str,
        gateway: &str,
        labels: std::collections::BTreeMap<String, String>,
    ) -> Result<()> {
        self.api
            .create_network(NetworkCreateRequest {
                name: name.to_string(),
                driver: Some("bridge".to_string()),
                ipam: Some(Ipam {
                    driver: Some("default".to_string()),
                    config: Some(vec![IpamConfig {
                        subnet: Some(subnet.to_string()),
                        gateway: Some(gateway.to_string()),
                        ..Default::default()
                    }]),
                    options: None,
                }),
                labels: Some(labels.into_iter().collect()),
                ..Default::default()
            })
            .await
            .map_err(|e| self.err(format!("creating network {name} ({subnet})"), e))?;
        Ok(())
    }
}

//! EC2 fixtures built in moto through the SDK: a VPC with a subnet, groups, instances, and
//! read-back helpers.

use aws_sdk_ec2::types::{Filter, ResourceType, Tag, TagSpecification};
use aws_sdk_ec2::Client;

/// The image moto is started with in tests that list snapshots or images.
pub const TEST_AMI: &str = "ami-0a1b2c3d4e5f60718";

pub struct Network {
    pub vpc_id: String,
    pub subnet_id: String,
    pub az: String,
}

/// A VPC with one subnet in us-east-1a.
pub async fn network(ec2: &Client) -> Network {
    let vpc = ec2
        .create_vpc()
        .cidr_block("10.0.0.0/16")
        .send()
        .await
        .expect("create vpc");
    let vpc_id = vpc
        .vpc()
        .and_then(|v| v.vpc_id())
        .expect("vpc id")
        .to_string();
    let subnet = ec2
        .create_subnet()
        .vpc_id(&vpc_id)
        .cidr_block("10.0.1.0/24")
        .availability_zone("us-east-1a")
        .send()
        .await
        .expect("create subnet");
    let subnet_id = subnet
        .subnet()
        .and_then(|s| s.subnet_id())
        .expect("subnet id")
        .to_string();
    Network {
        vpc_id,
        subnet_id,
        az: "us-east-1a".to_string(),
    }
}

pub async fn security_group(ec2: &Client, vpc_id: &str, name: &str) -> String {
    ec2.create_security_group()
        .group_name(name)
        .description(name)
        .vpc_id(vpc_id)
        .send()
        .await
        .expect("create security group")
        .group_id()
        .expect("group id")
        .to_string()
}

/// Any image moto knows (its default list, or the single test AMI).
pub async fn image(ec2: &Client) -> String {
    ec2.describe_images()
        .send()
        .await
        .expect("describe images")
        .images()
        .first()
        .and_then(|i| i.image_id())
        .expect("an image")
        .to_string()
}

/// Launches one instance in the subnet with `groups` and `tags`.
pub async fn instance(
    ec2: &Client,
    net: &Network,
    image_id: &str,
    groups: &[&str],
    tags: &[(&str, &str)],
) -> String {
    let mut req = ec2
        .run_instances()
        .image_id(image_id)
        .instance_type(aws_sdk_ec2::types::InstanceType::T3Micro)
        .subnet_id(&net.subnet_id)
        .min_count(1)
        .max_count(1)
        .set_security_group_ids(Some(groups.iter().map(|g| g.to_string()).collect()));
    if !tags.is_empty() {
        req = req.tag_specifications(
            TagSpecification::builder()
                .resource_type(ResourceType::Instance)
                .set_tags(Some(
                    tags.iter()
                        .map(|(k, v)| Tag::builder().key(*k).value(*v).build())
                        .collect(),
                ))
                .build(),
        );
    }
    req.send()
        .await
        .expect("run instances")
        .instances()
        .first()
        .and_then(|i| i.instance_id())
        .expect("instance id")
        .to_string()
}

pub async fn describe(ec2: &Client, id: &str) -> aws_sdk_ec2::types::Instance {
    ec2.describe_instances()
        .instance_ids(id)
        .send()
        .await
        .expect("describe instances")
        .reservations()
        .iter()
        .flat_map(|r| r.instances())
        .next()
        .cloned()
        .expect("instance")
}

/// The instance's security groups (sorted), as the instance lists them.
pub async fn instance_groups(ec2: &Client, id: &str) -> Vec<String> {
    let mut groups: Vec<String> = describe(ec2, id)
        .await
        .security_groups()
        .iter()
        .filter_map(|g| g.group_id().map(str::to_string))
        .collect();
    groups.sort();
    groups
}

pub async fn instance_tag(ec2: &Client, id: &str, key: &str) -> Option<String> {
    describe(ec2, id)
        .await
        .tags()
        .iter()
        .find(|t| t.key() == Some(key))
        .and_then(|t| t.value().map(str::to_string))
}

/// Ids of the groups named `name` in `vpc_id`.
pub async fn groups_named(
    ec2: &Client,
    vpc_id: &str,
    name: &str,
) -> Vec<aws_sdk_ec2::types::SecurityGroup> {
    ec2.describe_security_groups()
        .filters(Filter::builder().name("vpc-id").values(vpc_id).build())
        .filters(Filter::builder().name("group-name").values(name).build())
        .send()
        .await
        .expect("describe security groups")
        .security_groups()
        .to_vec()
}

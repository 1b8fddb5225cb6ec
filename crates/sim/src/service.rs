//! `pkt-src-aws-service` / `pkt-dst-aws-service`: the AWS service whose address space holds a
//! packet's real address, from the snapshot's AWS-managed prefix lists
//! (`com.amazonaws.<region>.<service>`, the lists gateway endpoints route by).
//!
//! AWS labels addresses with a closed vocabulary (`S3`, `DYNAMODB`, `CLOUDFRONT_ORIGIN_FACING`,
//! …; `../shared/spec/flowlog-formats.md` §1.4). A list's service part, upper-cased with `-` and
//! `.` as `_` (an `ipv6.` component dropped), is that label for every AWS-managed list; a name
//! outside the vocabulary labels nothing, so the field stays `-` rather than invent a value.

use flowwatch_net::{Addr, Cidr, Snapshot};

/// The values AWS documents for `pkt-*-aws-service`.
const VOCABULARY: [&str; 26] = [
    "AMAZON",
    "AMAZON_APPFLOW",
    "AMAZON_CONNECT",
    "API_GATEWAY",
    "AURORA_DSQL",
    "CHIME_MEETINGS",
    "CHIME_VOICECONNECTOR",
    "CLOUD9",
    "CLOUDFRONT",
    "CLOUDFRONT_ORIGIN_FACING",
    "CODEBUILD",
    "DYNAMODB",
    "EBS",
    "EC2",
    "EC2_INSTANCE_CONNECT",
    "GLOBALACCELERATOR",
    "IVS_LOW_LATENCY",
    "IVS_REALTIME",
    "KINESIS_VIDEO_STREAMS",
    "MEDIA_PACKAGE_V2",
    "ROUTE53",
    "ROUTE53_HEALTHCHECKS",
    "ROUTE53_HEALTHCHECKS_PUBLISHING",
    "ROUTE53_RESOLVER",
    "S3",
    "WORKSPACES_GATEWAYS",
];

/// The label of a managed prefix list's name: `com.amazonaws.us-east-1.s3` → `S3`,
/// `com.amazonaws.global.cloudfront.origin-facing` → `CLOUDFRONT_ORIGIN_FACING`.
pub(crate) fn label(list_name: &str) -> Option<&'static str> {
    let rest = list_name.strip_prefix("com.amazonaws.")?;
    // The region (or `global`) is the first component; the service is the rest.
    let (_, service) = rest.split_once('.')?;
    let service = service.strip_prefix("ipv6.").unwrap_or(service);
    let wanted: String = service
        .chars()
        .map(|c| match c {
            '-' | '.' => '_',
            c => c.to_ascii_uppercase(),
        })
        .collect();
    VOCABULARY.iter().copied().find(|v| *v == wanted)
}

/// Address → service, for one snapshot.
#[derive(Clone, Debug, Default)]
pub(crate) struct AwsServices {
    /// Longest prefix first, so overlapping lists give the most specific one.
    ranges: Vec<(Cidr, &'static str)>,
}

impl AwsServices {
    pub fn new(s: &Snapshot) -> Self {
        let mut ranges: Vec<(Cidr, &'static str)> = s
            .prefix_lists
            .iter()
            .filter_map(|pl| label(&pl.name).map(|l| (pl, l)))
            .flat_map(|(pl, l)| pl.cidrs.iter().map(move |c| (*c, l)))
            .collect();
        // Stable: at equal length the first list of the snapshot wins.
        ranges.sort_by_key(|(c, _)| std::cmp::Reverse(c.len));
        AwsServices { ranges }
    }

    pub fn of(&self, a: Addr) -> Option<&'static str> {
        self.ranges
            .iter()
            .find(|(c, _)| c.contains(a))
            .map(|&(_, l)| l)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn managed_list_names_give_aws_labels() {
        let check = |name: &str, want: Option<&str>| assert_eq!(label(name), want, "{name}");
        check("com.amazonaws.us-east-1.s3", Some("S3"));
        check("com.amazonaws.eu-west-3.dynamodb", Some("DYNAMODB"));
        check("com.amazonaws.us-east-1.ipv6.s3", Some("S3"));
        check(
            "com.amazonaws.global.cloudfront.origin-facing",
            Some("CLOUDFRONT_ORIGIN_FACING"),
        );
        check(
            "com.amazonaws.us-west-2.ec2-instance-connect",
            Some("EC2_INSTANCE_CONNECT"),
        );
        // Not an AWS-managed list, or a service AWS does not label.
        check("my-office-ranges", None);
        check("com.amazonaws.us-east-1", None);
        check("com.amazonaws.us-east-1.vpc-lattice", None);
    }
}

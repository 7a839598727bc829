import type { RuleDefinition } from './rule.js'

/*
 * The rules active when no rules file is given: every CIS AWS Foundations
 * monitoring item with its published filter pattern, a few more CloudTrail
 * rules from the talk, and some for plain syslog text. Each has samples in
 * test/rules/<name>.json that must fire it, and samples that must not.
 */

// CloudTrail lists permissions and grants as arrays; filter patterns have no
// "any element", so the first few are checked.
const firstFew = (build: (i: number, j: number) => string) =>
  [0, 1, 2].flatMap((i) => [0, 1].map((j) => build(i, j))).join(' || ')

export interface BuiltinOptions {
  /** The role ARNs that count as administrator, as a filter-pattern value: * is a wildcard. */
  adminRolePattern: string
  /** When set, the flatline rule `logs-flatlined` is on: no line stored for this many seconds. */
  flatlineSeconds?: number | undefined
}

export function builtinRules (options: BuiltinOptions): RuleDefinition[] {
  const flatline = options.flatlineSeconds === undefined ? [] : [flatlineRule(options.flatlineSeconds)]
  return [...flatline,
    {
      name: 'cis-4.1-unauthorized-api-calls',
      severity: 'medium',
      cooldownSeconds: 60,
      description: 'Unauthorized API call: {{$.eventName}} by {{$.userIdentity.arn}} failed with {{$.errorCode}}',
      pattern: '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }'
    },
    {
      name: 'cis-4.2-console-login-without-mfa',
      severity: 'high',
      description: 'Console sign-in without MFA by {{$.userIdentity.arn}} from {{$.sourceIPAddress}}',
      pattern: '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }'
    },
    {
      name: 'cis-4.3-root-account-usage',
      severity: 'critical',
      description: 'Root account used: {{$.eventName}} from {{$.sourceIPAddress}}',
      pattern: '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }'
    },
    {
      name: 'cis-4.4-iam-policy-changes',
      severity: 'high',
      description: 'IAM policy changed: {{$.eventName}} by {{$.userIdentity.arn}}',
      pattern: '{($.eventName=DeleteGroupPolicy)||($.eventName=DeleteRolePolicy)||($.eventName=DeleteUserPolicy)||($.eventName=PutGroupPolicy)||($.eventName=PutRolePolicy)||($.eventName=PutUserPolicy)||($.eventName=CreatePolicy)||($.eventName=DeletePolicy)||($.eventName=CreatePolicyVersion)||($.eventName=DeletePolicyVersion)||($.eventName=AttachRolePolicy)||($.eventName=DetachRolePolicy)||($.eventName=AttachUserPolicy)||($.eventName=DetachUserPolicy)||($.eventName=AttachGroupPolicy)||($.eventName=DetachGroupPolicy)}'
    },
    {
      name: 'cis-4.5-cloudtrail-changes',
      severity: 'critical',
      description: 'CloudTrail configuration changed: {{$.eventName}} by {{$.userIdentity.arn}}',
      pattern: '{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || ($.eventName = StartLogging) || ($.eventName = StopLogging) }'
    },
    {
      name: 'cis-4.6-console-authentication-failures',
      severity: 'medium',
      cooldownSeconds: 60,
      description: 'Console sign-in failed for {{$.userIdentity.userName}} from {{$.sourceIPAddress}}',
      pattern: '{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }'
    },
    {
      name: 'cis-4.7-cmk-disabled-or-deleted',
      severity: 'high',
      description: 'KMS key {{$.requestParameters.keyId}}: {{$.eventName}} by {{$.userIdentity.arn}}',
      pattern: '{ ($.eventSource = kms.amazonaws.com) && (($.eventName = DisableKey) || ($.eventName = ScheduleKeyDeletion)) }'
    },
    {
      name: 'cis-4.8-s3-bucket-policy-changes',
      severity: 'high',
      description: 'S3 bucket {{$.requestParameters.bucketName}}: {{$.eventName}} by {{$.userIdentity.arn}}',
      pattern: '{ ($.eventSource = s3.amazonaws.com) && (($.eventName = PutBucketAcl) || ($.eventName = PutBucketPolicy) || ($.eventName = PutBucketCors) || ($.eventName = PutBucketLifecycle) || ($.eventName = PutBucketReplication) || ($.eventName = DeleteBucketPolicy) || ($.eventName = DeleteBucketCors) || ($.eventName = DeleteBucketLifecycle) || ($.eventName = DeleteBucketReplication)) }'
    },
    {
      name: 'cis-4.9-aws-config-changes',
      severity: 'high',
      description: 'AWS Config changed: {{$.eventName}} by {{$.userIdentity.arn}}',
      pattern: '{ ($.eventSource = config.amazonaws.com) && (($.eventName=StopConfigurationRecorder)||($.eventName=DeleteDeliveryChannel)||($.eventName=PutDeliveryChannel)||($.eventName=PutConfigurationRecorder)) }'
    },
    {
      name: 'cis-4.10-security-group-changes',
      severity: 'medium',
      description: 'Security group {{$.requestParameters.groupId}}: {{$.eventName}} by {{$.userIdentity.arn}}',
      pattern: '{ ($.eventName = AuthorizeSecurityGroupIngress) || ($.eventName = AuthorizeSecurityGroupEgress) || ($.eventName = RevokeSecurityGroupIngress) || ($.eventName = RevokeSecurityGroupEgress) || ($.eventName = CreateSecurityGroup) || ($.eventName = DeleteSecurityGroup) }'
    },
    {
      name: 'cis-4.11-network-acl-changes',
      severity: 'medium',
      description: 'Network ACL changed: {{$.eventName}} by {{$.userIdentity.arn}}',
      pattern: '{ ($.eventName = CreateNetworkAcl) || ($.eventName = CreateNetworkAclEntry) || ($.eventName = DeleteNetworkAcl) || ($.eventName = DeleteNetworkAclEntry) || ($.eventName = ReplaceNetworkAclEntry) || ($.eventName = ReplaceNetworkAclAssociation) }'
    },
    {
      name: 'cis-4.12-network-gateway-changes',
      severity: 'medium',
      description: 'Network gateway changed: {{$.eventName}} by {{$.userIdentity.arn}}',
      pattern: '{ ($.eventName = CreateCustomerGateway) || ($.eventName = DeleteCustomerGateway) || ($.eventName = AttachInternetGateway) || ($.eventName = CreateInternetGateway) || ($.eventName = DeleteInternetGateway) || ($.eventName = DetachInternetGateway) }'
    },
    {
      name: 'cis-4.13-route-table-changes',
      severity: 'medium',
      description: 'Route table changed: {{$.eventName}} by {{$.userIdentity.arn}}',
      pattern: '{ ($.eventName = CreateRoute) || ($.eventName = CreateRouteTable) || ($.eventName = ReplaceRoute) || ($.eventName = ReplaceRouteTableAssociation) || ($.eventName = DeleteRouteTable) || ($.eventName = DeleteRoute) || ($.eventName = DisassociateRouteTable) }'
    },
    {
      name: 'cis-4.14-vpc-changes',
      severity: 'medium',
      description: 'VPC changed: {{$.eventName}} by {{$.userIdentity.arn}}',
      pattern: '{ ($.eventName = CreateVpc) || ($.eventName = DeleteVpc) || ($.eventName = ModifyVpcAttribute) || ($.eventName = AcceptVpcPeeringConnection) || ($.eventName = CreateVpcPeeringConnection) || ($.eventName = DeleteVpcPeeringConnection) || ($.eventName = RejectVpcPeeringConnection) || ($.eventName = AttachClassicLinkVpc) || ($.eventName = DetachClassicLinkVpc) || ($.eventName = DisableVpcClassicLink) || ($.eventName = EnableVpcClassicLink) }'
    },
    {
      name: 'cis-4.15-organizations-changes',
      severity: 'high',
      description: 'AWS Organizations changed: {{$.eventName}} by {{$.userIdentity.arn}}',
      pattern: '{ ($.eventSource = organizations.amazonaws.com) && (($.eventName = "AcceptHandshake") || ($.eventName = "AttachPolicy") || ($.eventName = "CreateAccount") || ($.eventName = "CreateOrganizationalUnit") || ($.eventName = "CreatePolicy") || ($.eventName = "DeclineHandshake") || ($.eventName = "DeleteOrganization") || ($.eventName = "DeleteOrganizationalUnit") || ($.eventName = "DeletePolicy") || ($.eventName = "DetachPolicy") || ($.eventName = "DisablePolicyType") || ($.eventName = "EnablePolicyType") || ($.eventName = "InviteAccountToOrganization") || ($.eventName = "LeaveOrganization") || ($.eventName = "MoveAccount") || ($.eventName = "RemoveAccountFromOrganization") || ($.eventName = "UpdatePolicy") || ($.eventName = "UpdateOrganizationalUnit")) }'
    },
    {
      name: 'administrator-role-assumed',
      severity: 'high',
      description: '{{$.userIdentity.arn}} assumed {{$.requestParameters.roleArn}} from {{$.sourceIPAddress}}',
      pattern: `{ $.eventName = "AssumeRole" && $.requestParameters.roleArn = "${options.adminRolePattern}" }`
    },
    {
      name: 'security-group-open-to-the-world',
      severity: 'critical',
      description: 'Security group {{$.requestParameters.groupId}} opened to the whole internet by {{$.userIdentity.arn}}',
      pattern: `{ $.eventName = "AuthorizeSecurityGroupIngress" && (${firstFew((i, j) =>
        `$.requestParameters.ipPermissions.items[${i}].ipRanges.items[${j}].cidrIp = "0.0.0.0/0" || ` +
        `$.requestParameters.ipPermissions.items[${i}].ipv6Ranges.items[${j}].cidrIpv6 = "::/0"`)}) }`
    },
    {
      name: 's3-bucket-acl-all-users',
      severity: 'critical',
      description: 'S3 bucket {{$.requestParameters.bucketName}} granted to AllUsers by {{$.userIdentity.arn}}',
      pattern: '{ $.eventName = "PutBucketAcl" && (' +
        '$.requestParameters.AccessControlPolicy.AccessControlList.Grant.Grantee.URI = "*/global/AllUsers" || ' +
        [0, 1, 2, 3].map((i) => `$.requestParameters.AccessControlPolicy.AccessControlList.Grant[${i}].Grantee.URI = "*/global/AllUsers"`).join(' || ') +
        ' || $.requestParameters.x-amz-acl[0] = "public-read*") }'
    },
    {
      name: 'sshd-root-login',
      severity: 'high',
      description: 'Someone logged in to a server as root over SSH',
      pattern: 'sshd Accepted "for root from"'
    },
    {
      name: 'console-login-failures-from-one-address',
      type: 'frequency',
      threshold: 5,
      withinSeconds: 60,
      groupBy: '$.sourceIPAddress',
      severity: 'high',
      cooldownSeconds: 300,
      description: '5 failed console sign-ins from {{$.sourceIPAddress}} within a minute, the last for {{$.userIdentity.userName}}',
      pattern: '{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }'
    },
    {
      name: 'sshd-failed-passwords',
      type: 'frequency',
      threshold: 5,
      withinSeconds: 60,
      severity: 'medium',
      cooldownSeconds: 60,
      description: '5 failed SSH passwords within a minute: someone is guessing (further bursts within a minute are merged into one digest)',
      pattern: 'sshd "Failed password"'
    },
    {
      name: 'sudo-to-root',
      severity: 'medium',
      description: 'A command was run as root with sudo',
      pattern: 'sudo USER=root COMMAND='
    }
  ]
}

/** The sink's own heartbeat: nothing stored for `seconds` means the shippers went quiet. An empty pattern matches every entry. */
export function flatlineRule (seconds: number): RuleDefinition {
  return {
    name: 'logs-flatlined',
    type: 'flatline',
    threshold: 1,
    withinSeconds: seconds,
    severity: 'high',
    description: `No log line stored for ${seconds} s: the shippers went quiet`,
    pattern: ''
  }
}

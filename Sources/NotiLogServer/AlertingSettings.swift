import Foundation
import NotiLogAlerts
import NotiLogCore

/// The alerting side of the settings: rules from the configuration and the rules directory, the channels, and
/// the web UI's address for links in notifications.
public struct AlertingSettings: Sendable {
    public var rules: [Rule]
    public var channels: [String: ChannelConfig]
    public var publicURL: String?

    public init(rules: [Rule] = [], channels: [String: ChannelConfig] = [:], publicURL: String? = nil) {
        self.rules = rules
        self.channels = channels
        self.publicURL = publicURL
    }
}

extension ServerConfiguration {
    /// The rules directory: `rules_dir`, else `rules.d` beside the configuration file (none without a file).
    public var effectiveRulesDirectory: String? {
        if let rulesDir, !rulesDir.isEmpty { return rulesDir }
        guard let file else { return nil }
        return PathText.directory(of: file) + "/rules.d"
    }

    /// The channels as configured; problems named `channels.NAME.KEY`.
    func channelConfigs(checkFiles: Bool) -> ([String: ChannelConfig], [ConfigurationProblem]) {
        guard let text = channels else { return ([:], []) }
        do throws(ChannelConfigError) {
            let configs = try ChannelConfig.channels(fromYAML: text)
            if checkFiles { try Notifiers.validate(configs) }
            return (configs, [])
        } catch {
            var path = "channels"
            if !error.channel.isEmpty { path += ".\(error.channel)" }
            if let key = error.key { path += ".\(key)" }
            return ([:], [ConfigurationProblem(path, error.message)])
        }
    }

    /// The rules of the configuration and the rules directory, checked together against the channels.
    public func loadRules(knownChannels: Set<String>) throws(RuleError) -> [Rule] {
        var rules: [Rule] = []
        var problems: [RuleProblem] = []
        if let text = self.rules {
            do throws(RuleError) {
                rules += try RuleSet.load(yaml: text, origin: .config(file: file ?? "configuration"))
            } catch {
                problems += error.problems
            }
        }
        if let directory = effectiveRulesDirectory {
            do throws(RuleError) {
                rules += try RuleSet.loadDirectory(directory)
            } catch {
                problems += error.problems
            }
        }
        do throws(RuleError) {
            try RuleSet(rules).validate(knownChannels: knownChannels)
        } catch {
            problems += error.problems
        }
        if !problems.isEmpty { throw RuleError(.invalid, problems) }
        return rules
    }

    /// Rules, channels and the public URL, with every problem found.
    func alerting(checkFiles: Bool) -> (AlertingSettings, [ConfigurationProblem]) {
        let (channels, channelProblems) = channelConfigs(checkFiles: checkFiles)
        var problems = channelProblems
        var rules: [Rule] = []
        do throws(RuleError) {
            rules = try loadRules(knownChannels: Set(channels.keys))
        } catch {
            problems += error.problems.map { ConfigurationProblem("rules", $0.description) }
        }
        if let url = publicURL, !(url.hasPrefix("https://") || url.hasPrefix("http://")) || URL(string: url) == nil {
            problems.append(ConfigurationProblem("public_url", "\"\(url)\" is not an http(s) URL"))
        }
        return (AlertingSettings(rules: rules, channels: channels, publicURL: publicURL), problems)
    }
}
